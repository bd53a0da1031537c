#!/usr/bin/env bash
# Copies the generated CRDs (crds/*.yaml, from `npm run crds`) into the chart, which must be
# self-contained to be packaged. Run after every `npm run crds`; e2e/helm/chart-files.test.ts fails
# while the copies differ from crds/.
set -euo pipefail
chart_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$chart_dir/../../crds"
target_dir="$chart_dir/files/crds"
mkdir -p "$target_dir"
# Copies of CRDs that no longer exist would keep installing a removed kind.
find "$target_dir" -maxdepth 1 -name '*.yaml' -delete
cp "$source_dir"/*.yaml "$target_dir"/
echo "sync-crds: copied $(find "$target_dir" -maxdepth 1 -name '*.yaml' | wc -l) CRDs into ${target_dir#"$chart_dir"/}"
