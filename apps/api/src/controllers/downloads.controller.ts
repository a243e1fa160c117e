import { UseDownloadTokenCommand } from '@csp/application/software/software-commands';
import { Controller, Get, Param, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest, FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Public } from '../auth/public.decorator';
import { CommandGateway } from '../http/command-gateway';

/**
 * The bits behind a download token, for whoever holds it (no login): a shareable link's use is
 * counted and recorded; 404 LINK_NOT_FOUND for a token this service did not sign, 410 LINK_EXPIRED
 * after 14 days or the 50th use, 410 REVOKED after the purchase was cancelled.
 */
@ApiTags('software')
@Public()
@Controller('v1/downloads')
export class DownloadsController {
  constructor(private readonly commands: CommandGateway) {}

  /** Tokens are longer than a path reference may be; whatever does not verify as one this service signed is 404. */
  @Get(':token')
  @ApiProduces('application/octet-stream')
  async download(@Param('token') token: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) response: FastifyReply) {
    const correlation = request.headers['x-correlation-id'];
    const correlationId = typeof correlation === 'string' && correlation.length <= 200 ? correlation : randomUUID();
    // The holder is not a user the service knows; the handler records the link as who used it.
    const context = { principal: { userId: 'download-token-holder', tenantId: '', kind: 'service' as const, roles: [] }, correlationId };
    const file = await this.commands.send('UseDownloadLink', context, new UseDownloadTokenCommand(token, correlationId), response);
    response.header('Cache-Control', 'no-store');
    return new StreamableFile(file.content, {
      type: 'application/octet-stream',
      disposition: `attachment; filename="${file.fileName}"`,
      length: file.content.length,
    });
  }
}
