#!/bin/sh
# Test double of a Miniforge/Miniconda installer: no conda installer or channel is reachable
# from the test machine. It keeps the real installer's batch interface (-b -p PREFIX, -u to
# update an existing prefix, refusal of an existing prefix without -u) and leaves the files the
# anaconda_env role reads afterwards (bin/conda answering --version, conda-meta/conda-*.json).
# Every run is appended to PREFIX/installer-runs.log so the verifier can count them.
set -eu
batch=0
update=0
prefix=
while getopts bup: opt; do
  case $opt in
    b) batch=1 ;;
    u) update=1 ;;
    p) prefix=$OPTARG ;;
    *) exit 2 ;;
  esac
done
[ "$batch" = 1 ] || { echo "this test installer only knows batch mode (-b)" >&2; exit 2; }
[ -n "$prefix" ] || { echo "no prefix (-p)" >&2; exit 2; }
if [ -e "$prefix" ] && [ "$update" != 1 ]; then
  echo "ERROR: File or directory already exists: '$prefix'" >&2
  echo "If you want to update an existing installation, use the -u option." >&2
  exit 1
fi
version=24.9.1
mkdir -p "$prefix/bin" "$prefix/conda-meta"
cat > "$prefix/bin/conda" <<CONDA
#!/bin/sh
[ "\$1" = --version ] && echo "conda $version" && exit 0
echo "test double: only --version" >&2
exit 2
CONDA
chmod 0755 "$prefix/bin/conda"
rm -f "$prefix"/conda-meta/conda-[0-9]*.json
printf '{"name": "conda", "version": "%s", "build": "py311h38be061_0"}\n' "$version" \
  > "$prefix/conda-meta/conda-$version-py311h38be061_0.json"
echo "installed conda $version (update=$update)" >> "$prefix/installer-runs.log"
