/** Cross-field checks that every order request (single or combine) makes: the notify URL and the payment deadline. */
import { notifyUrlProblem } from '../config/resolve-config';
import type { WechatPayFieldProblem } from '../errors/wechat-pay.errors';
import { parseRfc3339 } from '../time';

/** `notify_url` of a call, else the module's `notifyUrl`: required, and a URL WeChat Pay accepts. */
export function checkNotifyUrl(given: string | undefined, moduleDefault: string | undefined, problems: WechatPayFieldProblem[]): void {
  const notifyUrl = given ?? moduleDefault;
  if (notifyUrl === undefined) {
    problems.push({ field: 'notify_url', message: 'is required: pass notify_url or set notifyUrl in the module options' });
    return;
  }
  const p = notifyUrlProblem(notifyUrl);
  if (p) problems.push({ field: 'notify_url', message: p });
}

/** A Date or an RFC 3339 string with offset; with `now`, it must also be later than that. */
export function checkOrderTime(field: string, value: Date | string | undefined, now: number | undefined, problems: WechatPayFieldProblem[]): void {
  if (value === undefined) return;
  const t = value instanceof Date ? value : typeof value === 'string' ? parseRfc3339(value) : undefined;
  if (!t || Number.isNaN(t.getTime())) {
    problems.push({ field, message: 'must be a Date or an RFC 3339 string with offset, e.g. 2024-05-20T13:29:35+08:00' });
  } else if (now !== undefined && t.getTime() <= now) problems.push({ field, message: 'must be in the future' });
}
