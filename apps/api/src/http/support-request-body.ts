import {
  MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES,
  MAX_SUPPORT_REQUEST_ATTACHMENTS,
} from '@csp/domain/policies/support-request-attachments.policy';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { BEARER, unauthenticated } from '../auth/jwt-auth.guard';

/** Room for the form's text fields beside the attachments. */
const FORM_ALLOWANCE_BYTES = 1024 * 1024;

/**
 * The largest body a submission within the attachment policy needs: every file at its limit,
 * base64-encoded (4 characters per 3 bytes), plus the form. About 34.3 MiB with 5 files of 5 MiB.
 */
export const SUPPORT_REQUEST_JSON_BODY_LIMIT =
  Math.ceil(MAX_SUPPORT_REQUEST_ATTACHMENT_BYTES / 3) * 4 * MAX_SUPPORT_REQUEST_ATTACHMENTS + FORM_ALLOWANCE_BYTES;

const SUPPORT_REQUEST_SUBMISSION_PATH = '/v1/support-requests';

/**
 * `POST /v1/support-requests` reads bodies up to the larger limit its attachments need; every other
 * route keeps the small default. A submission without a bearer token is refused 401 before its body
 * is read: it would be refused anyway, and must not make the service read 34 MiB first.
 */
export function allowLargeSupportRequestBodies(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (route.url.replace(/\/$/, '') !== SUPPORT_REQUEST_SUBMISSION_PATH || ![route.method].flat().includes('POST')) return;
    route.bodyLimit = SUPPORT_REQUEST_JSON_BODY_LIMIT;
    route.onRequest = [refuseWithoutBearer, ...[route.onRequest ?? []].flat()];
  });
}

const refuseWithoutBearer: onRequestHookHandler = async (request: FastifyRequest) => {
  if (!BEARER.test(request.headers.authorization ?? '')) throw unauthenticated('an `Authorization: Bearer <token>` header is required');
};
