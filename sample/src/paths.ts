import { resolve } from 'node:path';

/**
 * The sample's own folder. This file sits one level below it both as source (sample/src) and compiled
 * (sample/dist), so the same relative path works under ts-jest and under `node sample/dist/main.js`.
 */
export const SAMPLE_ROOT = resolve(__dirname, '..');
/** The static cashier (HTML, JS, CSS): no build step. */
export const PUBLIC_DIR = resolve(SAMPLE_ROOT, 'public');
/** Default SQLite file; `sample/data/` is git-ignored. */
export const DEFAULT_DB_FILE = resolve(SAMPLE_ROOT, 'data', 'shop.sqlite');
/** Optional `.env` of the sample (see `.env.example`). */
export const ENV_FILE = resolve(SAMPLE_ROOT, '.env');
