/**
 * The simulator's reading of a `multipart/form-data` request (the media uploads), written
 * independently of the client's builder so that it catches what the client gets wrong: the boundary from the
 * Content-Type header, each part's headers, and its bytes exactly as received (the `meta` part is what the request
 * signature must cover).
 */
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';

/** One part of a multipart body. */
export interface SimulatorMultipartPart {
  /** `name` of Content-Disposition. */
  name: string;
  filename?: string;
  contentType?: string;
  /** The part's bytes, exactly as received. */
  bytes: Buffer;
}

/** A multipart request as a route sees it, by part name (the first part of each name). */
export interface SimulatorMultipart {
  parts: SimulatorMultipartPart[];
  part(name: string): SimulatorMultipartPart | undefined;
}

function invalid(why: string): never {
  throw new SimulatorHttpError(SIMULATOR_ERRORS.MULTIPART_INVALID, `${SIMULATOR_ERRORS.MULTIPART_INVALID.message}: ${why}`);
}

/** Parses a multipart body; throws 400 PARAM_ERROR when it is not one. */
export function parseMultipart(contentType: string | undefined, body: Buffer): SimulatorMultipart {
  const type = contentType ?? '';
  if (!/^multipart\/form-data\s*;/i.test(type)) invalid(`Content-Type is ${JSON.stringify(type.slice(0, 60))}, not multipart/form-data`);
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!boundary) invalid('Content-Type has no boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: SimulatorMultipartPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) invalid('the boundary does not occur in the body');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    if (body.subarray(at, at + 2).toString() !== '\r\n') invalid('a boundary line must end with CRLF');
    const headerEnd = body.indexOf('\r\n\r\n', at + 2);
    if (headerEnd < 0) invalid('a part has no end of headers');
    const headers = body.subarray(at + 2, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) invalid('a part is not closed by the boundary');
    const part: Partial<SimulatorMultipartPart> = { bytes: body.subarray(headerEnd + 4, next) };
    for (const line of headers) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-disposition') {
        part.name = /;\s*name="([^"]*)"/i.exec(value)?.[1];
        part.filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1];
      } else if (name === 'content-type') part.contentType = value;
    }
    if (part.name === undefined) invalid('a part has no Content-Disposition name');
    parts.push(part as SimulatorMultipartPart);
    at = next + 2;
  }
  return { parts, part: (name) => parts.find((p) => p.name === name) };
}

/**
 * A multipart request as the transport authenticates it: the bytes the signature must cover (the `meta` part; the
 * whole body when the body is not multipart, so that an unsigned or JSON request still fails authentication first)
 * and the parse error to answer once the request is authenticated.
 */
export function readMultipartRequest(contentType: string | undefined, body: Buffer): { signed: Buffer; multipart?: SimulatorMultipart; error?: SimulatorHttpError } {
  try {
    const multipart = parseMultipart(contentType, body);
    return { signed: multipart.part('meta')?.bytes ?? Buffer.alloc(0), multipart };
  } catch (e) {
    if (!(e instanceof SimulatorHttpError)) throw e;
    return { signed: body, error: e };
  }
}
