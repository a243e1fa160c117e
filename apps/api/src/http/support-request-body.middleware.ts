import {
  MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES,
  MAX_SUPPORT_REQUEST_ATTACHMENTS,
} from '@csp/domain/policies/support-request-attachments.policy';
import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** Room for the form's text fields beside the attachments. */
const FORM_ALLOWANCE_BYTES = 1024 * 1024;

/**
 * The largest body a submission within the attachment policy needs: every file at its limit,
 * base64-encoded (4 characters per 3 bytes), plus the form. About 34.3 MiB with 5 files of 5 MiB.
 */
export const SUPPORT_REQUEST_JSON_BODY_LIMIT =
  Math.ceil(MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES / 3) * 4 * MAX_SUPPORT_REQUEST_ATTACHMENTS + FORM_ALLOWANCE_BYTES;

const SUPPORT_REQUEST_SUBMISSION_PATH = '/v1/support-requests';
const parseLargeJson = json({ limit: SUPPORT_REQUEST_JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'] });

/**
 * Parses the body of `POST /v1/support-requests` with the larger limit its attachments need; every
 * other route keeps the small default (the general parser skips a body parsed here). Only a request
 * that carries a bearer token gets the large limit: one without is refused 401 anyway, and must not
 * make the service read 34 MiB first.
 */
export function parseSupportRequestBody(request: Request, response: Response, next: NextFunction): void {
  const submits = request.method === 'POST' && request.path.replace(/\/$/, '') === SUPPORT_REQUEST_SUBMISSION_PATH;
  const authorization = request.headers.authorization;
  if (!submits || typeof authorization !== 'string' || !/^Bearer\s+\S/i.test(authorization)) {
    next();
    return;
  }
  (parseLargeJson as RequestHandler)(request, response, next);
}
