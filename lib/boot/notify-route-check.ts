/**
 * The boot check of notify URLs against the app's notification routes, free of Nest: full route paths in, warnings
 * out. A global prefix or URI versioning silently moves every route, and WeChat Pay's notifications then get 404
 * with nothing in the logs; a refund notify URL that lands on a route accepting only `TRANSACTION.*` gets 400 on
 * every retry. Only certain mismatches are reported: a route pattern this matcher cannot judge counts as a match.
 */

/** One `@WechatPayNotification()` route, its paths as the HTTP adapter serves them. */
export interface NotificationRouteInfo {
  /** `Controller.method`, for messages. */
  handler: string;
  /** `POST`, `ALL`, … */
  method: string;
  /** Full paths: global prefix, version segment, controller and method paths. */
  paths: string[];
  /** Accepted event types (`PREFIX.*` allowed); empty: all. */
  eventTypes: readonly string[];
  /** The URI version segments in its paths, e.g. `['v1']`. */
  versionSegments?: readonly string[];
}

/** A notify URL option that is set. */
export interface NotifyUrlOption {
  /** Option name for messages, e.g. `notifyUrl`. */
  option: string;
  url: string;
  /** The event types WeChat Pay sends to it start with this, e.g. `REFUND.`. */
  eventPrefix: string;
}

/** What moved the routes, for the hint of a warning. */
export interface RouteContext {
  globalPrefix: string;
}

/** Joins path parts the way Nest does: one leading slash, no empty or trailing segments. */
export function joinPaths(...parts: string[]): string {
  const segments = parts.flatMap((p) => p.split('/')).filter((s) => s !== '');
  return `/${segments.join('/')}`;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Whether a route pattern serves a concrete path: `true`, `false`, or `undefined` when the pattern uses syntax this
 * matcher does not judge (optional groups, regular expressions, mixed segments). Case-insensitive (Express's default)
 * and trailing-slash tolerant, so that only certain mismatches are reported.
 */
export function routeServesPath(pattern: string, pathname: string): boolean | undefined {
  if (/[{}()?+[\]]/.test(pattern)) return undefined;
  const p = pattern.split('/').filter((s) => s !== '');
  const s = pathname
    .split('/')
    .filter((x) => x !== '')
    .map(decodeSegment);
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    if (seg.startsWith('*')) return s.length > i;
    if (seg.startsWith(':')) {
      if (seg.slice(1).includes(':') || seg.includes('*')) return undefined;
      if (s[i] === undefined) return false;
      continue;
    }
    if (seg.includes(':') || seg.includes('*')) return undefined;
    if (s[i] === undefined || seg.toLowerCase() !== s[i].toLowerCase()) return false;
  }
  return p.length === s.length;
}

/** Whether a route's event types let through the events of a family (`REFUND.`). */
export function acceptsFamily(eventTypes: readonly string[], prefix: string): boolean {
  return eventTypes.length === 0 || eventTypes.some((t) => t.startsWith(prefix) || t === '*');
}

function describe(route: NotificationRouteInfo): string {
  return `${route.paths.map((p) => `${route.method} ${p}`).join(', ')} (${route.handler})`;
}

function hint(pathname: string, routes: NotificationRouteInfo[], ctx: RouteContext): string {
  const all = routes.flatMap((r) => r.paths);
  if (ctx.globalPrefix) {
    const withPrefix = joinPaths(ctx.globalPrefix, pathname);
    const fits = all.some((p) => routeServesPath(p, withPrefix) !== false);
    return (
      ` The global prefix '${ctx.globalPrefix}' applies to these routes${fits ? ` (the notify URL path would be ${withPrefix})` : ''}: ` +
      `put it into the notify URL, or exclude the notification routes from it: app.setGlobalPrefix('${ctx.globalPrefix}', { exclude: [...] }).`
    );
  }
  const version = routes.flatMap((r) => r.versionSegments ?? [])[0];
  if (version)
    return ` URI versioning adds '/${version}' to the route paths: put it into the notify URL, or mark the routes VERSION_NEUTRAL.`;
  return ' Check the controller and method paths (and any RouterModule path, which this check does not see).';
}

/**
 * The warnings for a set of notify URLs and notification routes. One warning per notify URL path that no route
 * serves (naming every option that points there), and one per option whose route refuses that option's events.
 */
export function notifyRouteWarnings(
  urls: NotifyUrlOption[],
  routes: NotificationRouteInfo[],
  ctx: RouteContext,
): string[] {
  const warnings: string[] = [];
  const unserved = new Map<string, string[]>();
  const post = routes.filter((r) => r.method === 'POST' || r.method === 'ALL');
  for (const u of urls) {
    const pathname = new URL(u.url).pathname;
    const serving = post.filter((r) => r.paths.some((p) => routeServesPath(p, pathname) !== false));
    if (serving.length === 0) {
      unserved.set(pathname, [...(unserved.get(pathname) ?? []), u.option]);
      continue;
    }
    // Several routes may share a path (a route per method, or different hosts): report only when none takes the events.
    if (!serving.some((r) => acceptsFamily(r.eventTypes, u.eventPrefix))) {
      warnings.push(
        `${u.option} ${u.url} is served by ${serving.map(describe).join('; ')}, which accepts only ` +
          `${[...new Set(serving.flatMap((r) => r.eventTypes))].join(', ')}: ${u.eventPrefix}* notifications sent there are refused with 400 ` +
          `on every retry. Give ${u.eventPrefix}* its own route and point ${u.option.split(' ')[0]} at it, or accept '${u.eventPrefix}*' on that route.`,
      );
    }
  }
  for (const [pathname, options] of unserved) {
    warnings.push(
      `${options.join(' and ')} ${options.length > 1 ? 'have' : 'has'} the path ${pathname}, which no @WechatPayNotification() POST route serves: ` +
        `WeChat Pay's notifications sent there get 404. Notification routes: ${routes.map(describe).join('; ')}.` +
        hint(pathname, routes, ctx) +
        ' (Behind a proxy that rewrites paths, set notifications.routeCheck: false.)',
    );
  }
  return warnings;
}
