import type { CommandAnswer } from '@csp/application/command-handling/command-answer';
import type { CommandContext } from '@csp/application/command-handling/command-context';
import { CommandPipeline } from '@csp/application/command-handling/command-pipeline';
import { Injectable } from '@nestjs/common';
import type { Command } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { LOG_POSITION_HEADER } from './problem-details.filter';

/** Sends a command through the command pipeline and puts the position it wrote on the HTTP answer. */
@Injectable()
export class CommandGateway {
  constructor(private readonly pipeline: CommandPipeline) {}

  async send<Body>(name: string, context: CommandContext, command: Command<CommandAnswer<Body>>, reply: FastifyReply): Promise<Body> {
    const answer = await this.pipeline.execute(name, context, command);
    if (answer.position) reply.header(LOG_POSITION_HEADER, answer.position);
    return answer.body;
  }
}
