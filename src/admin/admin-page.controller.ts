import { Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ADMIN_CSS, ADMIN_JS, adminHtml } from './admin.assets';

/**
 * Content-Security-Policy of the page and its assets: no inline script or style, nothing from another origin, no
 * nonce needed (the script and the style sheet are files served here).
 */
export const ADMIN_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Sets the page's CSP (replacing the app's own for these routes) and forbids caching. */
function secure(res: Response, type: string): void {
  res.setHeader('Content-Security-Policy', ADMIN_CSP);
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/** Serves the operations page: one HTML page, one script, one style sheet (mounted by AdminModule under `path`). */
export class AdminPageController {
  /** The page; its script and its API are found relative to the URL it was served under. */
  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    const base = (req.originalUrl.split('?')[0] ?? '').replace(/\/+$/, '');
    secure(res, 'text/html; charset=utf-8');
    res.send(adminHtml(base));
  }

  /** The page's script. */
  @Get('assets/admin.js')
  script(@Res() res: Response): void {
    secure(res, 'text/javascript; charset=utf-8');
    res.send(ADMIN_JS);
  }

  /** The page's style sheet. */
  @Get('assets/admin.css')
  style(@Res() res: Response): void {
    secure(res, 'text/css; charset=utf-8');
    res.send(ADMIN_CSS);
  }
}
