import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Beside dist/ in the package: services/sync-gateway/console. */
const CONSOLE_DIR = join(__dirname, '..', '..', 'console');

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/**
 * The admin web console: three static files, no build step. They carry no data and need no token;
 * the page signs in with the admin token and calls the admin API like sync-admin does. The policy
 * allows this origin's own scripts and styles only.
 */
@Controller()
export class ConsoleController {
  private readonly cache = new Map<string, Buffer>();

  @Get()
  index(@Res() res: ServerResponse): void {
    this.send(res, 'index.html');
  }

  @Get('console/:file')
  asset(@Param('file') file: string, @Res() res: ServerResponse): void {
    if (!(file in FILES) || file === 'index.html') throw new NotFoundException();
    this.send(res, file);
  }

  private send(res: ServerResponse, file: string): void {
    let body = this.cache.get(file);
    if (!body) {
      body = readFileSync(join(CONSOLE_DIR, file));
      this.cache.set(file, body);
    }
    res.statusCode = 200;
    res.setHeader('content-type', FILES[file]);
    res.setHeader(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-cache');
    res.end(body);
  }
}
