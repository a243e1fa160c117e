import type { Principal } from '@csp/application/auth/principal';
import {
  GenerateKeyCommand,
  IssueDownloadLinkCommand,
  RevealKeyCommand,
  StartDownloadCommand,
  type SoftwareTarget,
} from '@csp/application/software/software-commands';
import { ListSoftwareQuery } from '@csp/application/software/software.queries';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { PageQueryDto } from '../dto/list.dto';
import { choicesOf, DownloadChoicesDto, GenerateKeyDto } from '../dto/software.dto';
import { CommandGateway } from '../http/command-gateway';
import { ConsistencyGuard } from '../http/consistency.guard';
import { ReferencePipe } from '../http/reference.pipe';
import { commandContextOf } from '../http/request-context';

/** Software purchases, their keys, downloads and shareable links (API.md "Software, keys and downloads"). */
@ApiTags('software')
@UseGuards(ConsistencyGuard)
@Controller('v1/customers/:customerId/software')
export class SoftwareController {
  constructor(
    private readonly commands: CommandGateway,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  list(@Param('customerId', ReferencePipe) customerId: string, @Query() page: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(new ListSoftwareQuery(principal, customerId, { continuationToken: page.continuationToken, pageSize: page.size }));
  }

  /** `GenerateKey`: 201 with the key's id, never its text. */
  @Post(':softwareId/keys')
  generateKey(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('softwareId', ReferencePipe) softwareId: string,
    @Body() body: GenerateKeyDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const target = targetOf(request, customerId, softwareId);
    return this.commands.send('GenerateKey', target.context, new GenerateKeyCommand(target, choicesOf(body), body.keyType), response);
  }

  /** The only answer that carries key text; recorded in the activity log. */
  @Post(':softwareId/keys/:keyId/reveal')
  @HttpCode(200)
  reveal(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('softwareId', ReferencePipe) softwareId: string,
    @Param('keyId', ReferencePipe) keyId: string,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const target = targetOf(request, customerId, softwareId);
    response.header('Cache-Control', 'no-store');
    return this.commands.send('RevealKey', target.context, new RevealKeyCommand(target, keyId), response);
  }

  /** `{ downloadUrl }`: a signed address valid for 15 minutes, fetched without counting as a link use. */
  @Post(':softwareId/downloads')
  @HttpCode(200)
  startDownload(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('softwareId', ReferencePipe) softwareId: string,
    @Body() body: DownloadChoicesDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const target = targetOf(request, customerId, softwareId);
    return this.commands.send('StartDownload', target.context, new StartDownloadCommand(target, choicesOf(body)), response);
  }

  /** A shareable link: 14 days or 50 uses, whichever comes first. */
  @Post(':softwareId/download-links')
  issueLink(
    @Param('customerId', ReferencePipe) customerId: string,
    @Param('softwareId', ReferencePipe) softwareId: string,
    @Body() body: DownloadChoicesDto,
    @Req() request: AuthenticatedRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const target = targetOf(request, customerId, softwareId);
    return this.commands.send('IssueDownloadLink', target.context, new IssueDownloadLinkCommand(target, choicesOf(body)), response);
  }
}

function targetOf(request: AuthenticatedRequest, customerRef: string, softwareId: string): SoftwareTarget {
  return { context: commandContextOf(request), customerRef, softwareId };
}
