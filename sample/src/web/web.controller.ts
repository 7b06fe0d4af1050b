import { Controller, Get, Header } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC_DIR } from '../paths';

/** The page may load only its own script and style, so an injected tag could not run anything. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function read(file: string): string {
  return readFileSync(join(PUBLIC_DIR, file), 'utf8');
}

/**
 * Serves the static cashier. A few fixed routes instead of a static-files middleware: the same code on Express and
 * Fastify, no extra dependency, and no way to ask for any other file.
 */
@Controller()
export class WebController {
  private readonly files = {
    index: read('index.html'),
    h5Return: read('h5-return.html'),
    appJs: read('app.js'),
    h5ReturnJs: read('h5-return.js'),
    css: read('style.css'),
  };

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  index(): string {
    return this.files.index;
  }

  /** The H5 redirect_url: where WeChat sends the payer back, possibly before the payment has ended. */
  @Get('h5-return')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  @Header('X-Content-Type-Options', 'nosniff')
  h5Return(): string {
    return this.files.h5Return;
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  appJs(): string {
    return this.files.appJs;
  }

  @Get('h5-return.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  h5ReturnJs(): string {
    return this.files.h5ReturnJs;
  }

  @Get('style.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('X-Content-Type-Options', 'nosniff')
  css(): string {
    return this.files.css;
  }
}
