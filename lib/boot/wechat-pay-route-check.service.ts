import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Post,
  RequestMethod,
  type Type,
  Version,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import {
  ApplicationConfig,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  Reflector,
} from '@nestjs/core';
import { notifyUrlOptions, type ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { NOTIFICATION_ROUTE_OPTIONS } from '../notifications/notification.constants';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import { joinPaths, type NotificationRouteInfo, notifyRouteWarnings } from './notify-route-check';

/**
 * The metadata keys under which `@Post()` and `@Version()` (and `@Controller()`, which uses the same keys) keep the
 * path, method and version, read off Nest itself rather than imported from an internal path
 * (`@nestjs/common/constants` is not an entry point of every supported major).
 */
const ROUTE_KEYS = (() => {
  class Probe {
    handler(): void {}
  }
  const descriptor = Object.getOwnPropertyDescriptor(Probe.prototype, 'handler') as PropertyDescriptor;
  Post('wechatpay-probe-path')(Probe.prototype, 'handler', descriptor);
  Version('wechatpay-probe-version')(Probe.prototype, 'handler', descriptor);
  const target = descriptor.value as object;
  const find = (value: unknown): unknown =>
    Reflect.getOwnMetadataKeys(target).find((k) => Reflect.getOwnMetadata(k, target) === value);
  return {
    path: find('wechatpay-probe-path'),
    method: find(RequestMethod.POST),
    version: find('wechatpay-probe-version'),
  };
})();

type VersionMeta = string | typeof VERSION_NEUTRAL | Array<string | typeof VERSION_NEUTRAL> | undefined;

function asList<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * Warns once at application bootstrap when no `@WechatPayNotification()` route serves the path of a notify URL
 * option, or when the route there refuses the events sent to it. Reads the routes through Nest's public discovery
 * API and the global prefix and versioning through `ApplicationConfig`; `RouterModule` paths are not visible there.
 */
@Injectable()
export class WechatPayRouteCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('WechatPartnerPay');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly appConfig: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Without an HTTP adapter (an application context, a worker) this app serves no notification.
    if (!this.config.notifications.routeCheck || !this.adapterHost.httpAdapter) return;
    const urls = notifyUrlOptions(this.config);
    if (urls.length === 0) return;
    const routes = this.notificationRoutes();
    // No notification route at all: notifications are served by another app of the same configuration.
    if (routes.length === 0) return;
    for (const warning of notifyRouteWarnings(urls, routes, {
      globalPrefix: this.appConfig.getGlobalPrefix(),
    })) {
      this.logger.warn(warning);
    }
  }

  /** Every controller method carrying `@WechatPayNotification()`, with its full paths. */
  notificationRoutes(): NotificationRouteInfo[] {
    const out: NotificationRouteInfo[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller?.prototype) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function') continue;
        const options = this.reflector.get<{ eventTypes?: unknown } | undefined>(
          NOTIFICATION_ROUTE_OPTIONS,
          handler,
        );
        if (options === undefined) continue;
        const methodPaths = asList(
          this.reflector.get<string | string[] | undefined>(ROUTE_KEYS.path as string, handler),
        );
        if (methodPaths.length === 0) continue;
        const requestMethod =
          this.reflector.get<RequestMethod | undefined>(ROUTE_KEYS.method as string, handler) ??
          RequestMethod.GET;
        const controllerPaths = asList(
          this.reflector.get<string | string[] | undefined>(ROUTE_KEYS.path as string, controller),
        );
        const version: VersionMeta =
          this.reflector.get<VersionMeta>(ROUTE_KEYS.version as string, handler) ??
          this.reflector.get<VersionMeta>(ROUTE_KEYS.version as string, controller);
        const eventTypes = Array.isArray(options?.eventTypes)
          ? options.eventTypes.filter((t): t is string => typeof t === 'string')
          : [];
        const paths: string[] = [];
        const versionSegments = this.versionSegmentsOf(version);
        for (const c of controllerPaths.length ? controllerPaths : ['/']) {
          for (const m of methodPaths) {
            const local = joinPaths(c, m);
            for (const v of versionSegments)
              paths.push(joinPaths(this.prefixFor(local, requestMethod), v, local));
          }
        }
        out.push({
          handler: `${controller.name}.${name}`,
          method: RequestMethod[requestMethod] ?? String(requestMethod),
          paths,
          eventTypes,
          versionSegments: versionSegments.filter((v) => v !== ''),
        });
      }
    }
    return out;
  }

  /** The global prefix, unless the route is excluded from it. */
  private prefixFor(path: string, method: RequestMethod): string {
    const prefix = this.appConfig.getGlobalPrefix();
    if (!prefix) return '';
    const excluded = (this.appConfig.getGlobalPrefixOptions().exclude ?? []).some(
      (e) =>
        (e.requestMethod === RequestMethod.ALL || e.requestMethod === method) &&
        (e.pathRegex?.test(path) || joinPaths(e.path) === path),
    );
    return excluded ? '' : prefix;
  }

  /** The URI version segments of a route (`['v1']`, `['']` for version-neutral or without URI versioning). */
  private versionSegmentsOf(version: VersionMeta): string[] {
    const versioning = this.appConfig.getVersioning();
    if (!versioning || versioning.type !== VersioningType.URI) return [''];
    const prefix = versioning.prefix === false ? '' : (versioning.prefix ?? 'v');
    const values = asList(version ?? (versioning.defaultVersion as VersionMeta));
    if (values.length === 0) return [''];
    return values.map((v) => (v === VERSION_NEUTRAL ? '' : `${prefix}${String(v)}`));
  }
}
