#!/usr/bin/env bash
# The changelog as a release would render it: the fragments lint clean, and a trial release
# of galaxy.yml's version, made in a throwaway copy of the tracked files, renders without raw
# Ansible markup (C(...), O(...) are not RST) and lists every role, playbook and filter.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.venv/bin
# antsibull-changelog finds the new modules through ansible-doc.
export PATH=$bin:$PATH

"$bin/antsibull-changelog" lint

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy=$work/ansible_collections/dlstack/cdh
mkdir -p "$copy"
git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ "$copy/"
version=$(sed -n 's/^version: *//p' galaxy.yml)
(cd "$copy" && "$bin/antsibull-changelog" release --version "$version" --date "$(date -u +%F)")
"$bin/antsibull-changelog" lint-changelog-yaml "$copy/changelogs/changelog.yaml"
rst=$copy/CHANGELOG.rst

if grep -nE '(^|[^A-Za-z0-9_])(C|V|O|RV|I|B|U|L|M|P)\([^)]*\)' "$rst"; then
  echo "changelog-check: the lines above hold Ansible markup, which RST shows as typed; write \`\`...\`\` instead"; exit 1
fi
grep -q '^Release Summary' "$rst" || { echo "changelog-check: no release summary"; exit 1; }
for role in roles/*/; do
  role=$(basename "$role")
  [ "$role" = _common ] && continue
  grep -qE "^- dlstack\.cdh\.$role - " "$rst" || { echo "changelog-check: role $role is not announced (add object.role)"; exit 1; }
done
for playbook in playbooks/*.yml; do
  name=$(basename "$playbook" .yml)
  grep -qE "^- dlstack\.cdh\.$name - " "$rst" || { echo "changelog-check: playbook $name is not announced (add object.playbook)"; exit 1; }
done
for filter in plugins/filter/*.yml; do
  name=$(basename "$filter" .yml)
  grep -qE "^- dlstack\.cdh\.$name - " "$rst" || { echo "changelog-check: filter $name is not announced (add plugin.filter)"; exit 1; }
done
# docutils (antsibull-changelog's dependency) must parse the RST without warnings.
"$bin/python" - "$rst" <<'PY'
import sys
from docutils.core import publish_doctree
from docutils.utils import Reporter
publish_doctree(open(sys.argv[1]).read(), settings_overrides={"report_level": Reporter.WARNING_LEVEL, "halt_level": Reporter.WARNING_LEVEL})
PY
echo "changelog-check: $version renders cleanly, $(grep -c '^- ' "$rst") entries"
