#!/usr/bin/env bash
# Builds local stand-ins, from Debian packages, for the images the labs declare (labs/<id>/images.json)
# and the grader's own, as `python -m graders.versions images` lists them: for machines that reach no
# container registry. One recipe per repository (busybox, nginx), so a new tag of these is built by the
# same recipe; an image with no recipe is named, with what to do, and the script then exits 1.
# Skips an image that exists with the current recipe (label k8s101.standin = STANDIN_VERSION); an older
# stand-in is rebuilt. `--list`: print each image and its recipe ("none" without one), build nothing.
# Needs: podman, debootstrap, busybox-static (installed by scripts/setup-debian.sh), and a Python with the
# graders' packages: $PYTHON, else .venv/bin/python, else python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/podman/containers.conf}
python=${PYTHON:-$repo/.venv/bin/python}
[ -n "${PYTHON:-}" ] || [ -x "$python" ] || python=python3
if ! images=$(cd "$repo" && "$python" -m graders.versions images); then
  echo "build-standin-images: could not list the labs' images with $python (above): set PYTHON to a Python" \
       "with requirements.txt installed, or run scripts/setup-debian.sh, which makes .venv" >&2
  exit 1
fi

recipe_of() {  # the repository, without the tag
  case "${1%:*}" in
    docker.io/library/busybox) echo busybox ;;
    docker.io/library/nginx) echo nginx ;;
    *) echo none ;;
  esac
}
if [ "${1:-}" = --list ]; then
  for image in $images; do echo "$image $(recipe_of "$image")"; done
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
STANDIN_VERSION=2  # bump whenever a recipe below changes, so that machines rebuild their stand-ins
have() { [ "$(podman image inspect --format '{{index .Labels "k8s101.standin"}}' "$1" 2>/dev/null)" = "$STANDIN_VERSION" ]; }
label="LABEL k8s101.standin=$STANDIN_VERSION"

build_busybox() {
  local root=$work/busybox
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  # Link every applet, as the official image does (wget, nc, tail, grep, hostname, ...).
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | podman import --change "$label" --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$1" >/dev/null
}

build_nginx() {
  local root=$work/nginx
  debootstrap --variant=minbase --include=nginx-light,curl bookworm "$root" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  # The official image sends its logs to the container's output through these symlinks.
  ln -sf /dev/stdout "$root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$root/var/log/nginx/error.log"
  # The official image serves /usr/share/nginx/html (Debian's default site: /var/www/html).
  mkdir -p "$root/usr/share/nginx/html"
  [ -f "$root/usr/share/nginx/html/index.html" ] \
    || cp "$root/var/www/html/index.nginx-debian.html" "$root/usr/share/nginx/html/index.html"
  sed -i 's#root /var/www/html;#root /usr/share/nginx/html;#' "$root/etc/nginx/sites-available/default"
  grep -q 'root /usr/share/nginx/html;' "$root/etc/nginx/sites-available/default"
  rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
  tar -C "$root" -c . | podman import --change "$label" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["nginx","-g","daemon off;"]' \
    --change 'STOPSIGNAL SIGQUIT' - "$1" >/dev/null
}

declare -A built=()  # recipe -> the image it built in this run: another tag of it is the same stand-in
unbuilt=()
for image in $images; do
  recipe=$(recipe_of "$image")
  if have "$image"; then
    [ "$recipe" = none ] || built[$recipe]=${built[$recipe]:-$image}
    continue
  elif [ "$recipe" = none ]; then
    podman image exists "$image" || unbuilt+=("$image")
  elif [ -n "${built[$recipe]:-}" ]; then
    podman tag "${built[$recipe]}" "$image"
    echo "built $image (as ${built[$recipe]})"
  else
    "build_$recipe" "$image"
    built[$recipe]=$image
    echo "built $image"
  fi
done
if [ ${#unbuilt[@]} -gt 0 ]; then
  echo "build-standin-images: no stand-in recipe for ${unbuilt[*]}: on a machine that reaches its registry," \
       "podman pull it; else add a recipe to scripts/build-standin-images.sh (recipe_of and build_<recipe>)" >&2
  exit 1
fi
