import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  try {
    // lib/core/http and dist/core/http are both three levels below the package root.
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** This package's version. */
export const PACKAGE_VERSION = readVersion();
/** The User-Agent sent with every request: package, platform and Node version. */
export const USER_AGENT = `nestjs-wechat-partner-pay/${PACKAGE_VERSION} (${process.platform}) Node/${process.versions.node}`;
