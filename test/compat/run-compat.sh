#!/usr/bin/env bash
# Installs the packed package next to NestJS 10, 11 and 12 (each with its @nestjs/axios) in throw-away folders and
# runs smoke.cjs in each: proves the peer dependency ranges we declare. Needs `npm run build` first.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -1)"
fail=0
for pair in "10:3" "11:4" "12:12"; do
  nest="${pair%%:*}"; axios="${pair##*:}"
  dir="$work/nest$nest"; mkdir -p "$dir"
  (cd "$dir" && echo '{"name":"compat","version":"1.0.0","private":true}' > package.json &&
    npm install --silent --no-audit --no-fund "@nestjs/common@$nest" "@nestjs/core@$nest" "@nestjs/platform-express@$nest" "@nestjs/axios@$axios" \
      rxjs reflect-metadata class-validator class-transformer axios "$work/$tarball" >/dev/null 2>&1 &&
    cp "$root/test/compat/smoke.cjs" . && node smoke.cjs) || { echo "NestJS $nest: FAILED"; fail=1; }
done
exit $fail
