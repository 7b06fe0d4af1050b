/** Whether `eventType` is matched by one of `patterns` (exact, or `PREFIX.*`). */
export function eventTypeMatches(eventType: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('.*') ? eventType.startsWith(p.slice(0, -1)) : p === eventType));
}
