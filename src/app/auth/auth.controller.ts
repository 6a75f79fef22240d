import { Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentUser, LocalLoginGuard, SessionAuthGuard, SessionAuthService, type ListedSession } from '../../index';
import type { PublicUser } from '../users/user.entity';

/** Login, logout, the current user and the user's sessions. */
@Controller('auth')
export class AuthController {
  constructor(private readonly sessions: SessionAuthService<PublicUser>) {}

  /**
   * `{username, password}` → 200 with the user and a new session cookie; 400 bad body; 401; 429 throttled; 503 while
   * Redis is down. LocalLoginGuard does the work (validation, credentials, throttle, session).
   */
  @Post('login')
  @HttpCode(200)
  @UseGuards(LocalLoginGuard)
  login(@CurrentUser() user: PublicUser): PublicUser {
    return user;
  }

  /** The logged-in user: 200, or 401. */
  @Get('me')
  @UseGuards(SessionAuthGuard)
  me(@CurrentUser() user: PublicUser): PublicUser {
    return user;
  }

  /** Destroys the session and clears the cookie: 204 (also when not logged in). */
  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.logout(req, res);
  }

  /** My live sessions, newest first, the current one marked. */
  @Get('sessions')
  @UseGuards(SessionAuthGuard)
  list(@CurrentUser() user: PublicUser, @Req() req: Request): Promise<ListedSession[]> {
    return this.sessions.listSessions(String(user.id), req.sessionID);
  }

  /** Revokes one of my sessions: 204; 404 when it is not one of mine. */
  @Delete('sessions/:id')
  @HttpCode(204)
  @UseGuards(SessionAuthGuard)
  async revoke(@CurrentUser() user: PublicUser, @Param('id') id: string): Promise<void> {
    if (id.length > 256 || !(await this.sessions.revokeSession(String(user.id), id)))
      throw new NotFoundException('session not found');
  }

  /** Revokes all my sessions except the current one: 200 with how many. */
  @Delete('sessions')
  @HttpCode(200)
  @UseGuards(SessionAuthGuard)
  async revokeOthers(@CurrentUser() user: PublicUser, @Req() req: Request): Promise<{ revoked: number }> {
    return { revoked: await this.sessions.revokeOtherSessions(String(user.id), req.sessionID) };
  }
}
