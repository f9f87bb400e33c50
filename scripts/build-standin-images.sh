#!/usr/bin/env bash
# Builds local stand-ins for docker.io/library/nginx:1.25 and docker.io/library/busybox:1.36 from
# Debian packages, for machines that reach no container registry. Skips an image that exists with the
# current recipe (label k8s101.standin = STANDIN_VERSION); an older stand-in is rebuilt.
# Needs: podman, debootstrap, busybox-static (installed by scripts/setup-debian.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/podman/containers.conf}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

STANDIN_VERSION=2  # bump whenever the recipe below changes, so that machines rebuild their stand-ins
have() { [ "$(podman image inspect --format '{{index .Labels "k8s101.standin"}}' "$1" 2>/dev/null)" = "$STANDIN_VERSION" ]; }
label="LABEL k8s101.standin=$STANDIN_VERSION"

busybox_image=docker.io/library/busybox:1.36
if ! have "$busybox_image"; then
  root=$work/busybox
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  # Link every applet, as the official image does (wget, nc, tail, grep, hostname, ...).
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | podman import --change "$label" --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$busybox_image" >/dev/null
  echo "built $busybox_image"
fi

nginx_image=docker.io/library/nginx:1.25
if ! have "$nginx_image"; then
  root=$work/nginx
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
    --change 'STOPSIGNAL SIGQUIT' - "$nginx_image" >/dev/null
  echo "built $nginx_image"
fi
