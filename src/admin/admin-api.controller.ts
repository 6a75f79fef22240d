import {
  Body,
  Delete,
  Get,
  HttpCode,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import type { Request } from 'express';
import { withTimeout } from '../core/deadline';
import { RedisTimeoutError } from '../redis/redis.errors';
import { AdminFeaturesService } from './admin-features.service';
import { bulkFilter, entryId, identifier, pageSize, streamName } from './admin-input';
import { AdminLocksService } from './admin-locks.service';
import { AdminStreamsService } from './admin-streams.service';
import { ADMIN_RESOLVED_OPTIONS } from './admin.constants';
import type { ResolvedAdminOptions } from './admin.options';

/**
 * The operations page's JSON API, under `<path>/api` (mounted by AdminModule under its `path`). Reads answer within
 * `commandTimeoutMs` (503 otherwise); every change is logged with who did it.
 */
export class AdminApiController {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly streamsService: AdminStreamsService,
    private readonly locksService: AdminLocksService,
    private readonly features: AdminFeaturesService,
    @Inject(ADMIN_RESOLVED_OPTIONS) private readonly options: ResolvedAdminOptions,
  ) {}

  /** Counters for the live charts, and which features the application has. */
  @Get('api/overview')
  overview() {
    return this.bounded(this.features.overview());
  }

  /** Every Redis master's version, memory, ops/s and clients. */
  @Get('api/server')
  async server() {
    return { servers: await this.bounded(this.features.servers()) };
  }

  /** Every stream: length, DLQ length, groups, consumers, pending, oldest pending age, lag. */
  @Get('api/streams')
  streams() {
    return this.bounded(this.streamsService.streams());
  }

  /** One page of a stream's DLQ, oldest first (`?after=<next>&limit=50`). */
  @Get('api/streams/:stream/dlq')
  deadLetters(@Param('stream') stream: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    const name = streamName(stream);
    return this.bounded(
      this.streamsService.deadLetters(name, after ? entryId(after, 'after') : undefined, pageSize(limit, 50, 500)),
    );
  }

  /** One dead letter with its failure reason. */
  @Get('api/streams/:stream/dlq/:id')
  deadLetter(@Param('stream') stream: string, @Param('id') id: string) {
    return this.bounded(this.streamsService.deadLetter(streamName(stream), entryId(id)));
  }

  /** Redrives one dead letter (idempotent: `streamId` null when it was no longer there). */
  @Post('api/streams/:stream/dlq/:id/redrive')
  @HttpCode(200)
  async redrive(@Req() req: Request, @Param('stream') stream: string, @Param('id') id: string) {
    const name = streamName(stream);
    const result = await this.streamsService.redrive(name, entryId(id));
    this.log(req, `redrove dead letter ${id} of stream "${name}" → ${result.streamId ?? 'already gone'}`);
    return result;
  }

  /** Redrives the dead letters matching a filter, or all (`{"all": true}`), at most `maxPerRequest`. */
  @Post('api/streams/:stream/dlq/redrive')
  @HttpCode(200)
  async redriveMany(@Req() req: Request, @Param('stream') stream: string, @Body() body: unknown) {
    return this.bulk(req, 'redrive', streamName(stream), body);
  }

  /** Deletes the dead letters matching a filter, or all (`{"all": true}`), at most `maxPerRequest`. */
  @Post('api/streams/:stream/dlq/delete')
  @HttpCode(200)
  async deleteMany(@Req() req: Request, @Param('stream') stream: string, @Body() body: unknown) {
    return this.bulk(req, 'delete', streamName(stream), body);
  }

  /** Deletes one dead letter (404 when not there). */
  @Delete('api/streams/:stream/dlq/:id')
  async deleteOne(@Req() req: Request, @Param('stream') stream: string, @Param('id') id: string) {
    const name = streamName(stream);
    if (!(await this.streamsService.delete(name, entryId(id)))) {
      throw new NotFoundException(`no dead letter ${id} in the DLQ of stream "${name}"`);
    }
    this.log(req, `deleted dead letter ${id} of stream "${name}"`);
    return { deleted: 1 };
  }

  /** A user's live sessions. */
  @Get('api/users/:userId/sessions')
  async sessions(@Param('userId') userId: string) {
    return { sessions: await this.bounded(this.features.listSessions(identifier(userId, 'userId'))) };
  }

  /** Revokes one session of a user (404 when it is not one of theirs); its next request is refused. */
  @Delete('api/users/:userId/sessions/:sid')
  async revokeSession(@Req() req: Request, @Param('userId') userId: string, @Param('sid') sid: string) {
    const user = identifier(userId, 'userId');
    if (!(await this.features.revokeSession(user, identifier(sid, 'sid')))) {
      throw new NotFoundException(`no session ${sid} of user ${user}`);
    }
    this.log(req, `revoked session ${sid.slice(0, 8)}… of user ${user}`);
    return { revoked: 1 };
  }

  /** Revokes every session of a user. */
  @Delete('api/users/:userId/sessions')
  async revokeAll(@Req() req: Request, @Param('userId') userId: string) {
    const user = identifier(userId, 'userId');
    const revoked = await this.features.revokeAllSessions(user);
    this.log(req, `revoked all ${revoked} session(s) of user ${user}`);
    return { revoked };
  }

  /** Locks and semaphores held: name, holder, lease left, fence. */
  @Get('api/locks')
  locks() {
    return this.bounded(this.locksService.list());
  }

  /** Cache counters of this process: hit ratio, outages, errors. */
  @Get('api/cache')
  cache() {
    return this.features.cacheStats();
  }

  /** Clears the cache's namespace. */
  @Post('api/cache/clear')
  @HttpCode(200)
  async clearCache(@Req() req: Request) {
    const removed = await this.features.clearCache();
    this.log(req, `cleared the cache (${removed} keys)`);
    return { removed };
  }

  /** The scheduled jobs: next run, last run and its result, runs and failures. */
  @Get('api/schedule')
  schedule() {
    return { jobs: this.features.jobs() };
  }

  private async bulk(req: Request, action: 'redrive' | 'delete', name: string, body: unknown) {
    const filter = bulkFilter(body);
    const result = await this.streamsService.bulk(name, action, filter);
    const which = Object.keys(filter).length === 0 ? 'all' : JSON.stringify(filter);
    this.log(
      req,
      `${action === 'redrive' ? 'redrove' : 'deleted'} ${result.done} dead letter(s) (${which}) of stream "${name}"`,
    );
    return result;
  }

  private log(req: Request, what: string): void {
    this.logger.log(`${this.options.who(req)} ${what}`);
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    const ms = this.options.commandTimeoutMs;
    return withTimeout(work, ms, () => new RedisTimeoutError(ms));
  }
}
