#!/usr/bin/env bash
# A private Docker daemon for CI: its own containerd, socket, data root and exec root under one directory,
# so it neither needs nor disturbs a daemon someone else runs on the machine.
# Usage: test/container/private-daemon.sh start DIR   prints DOCKER_HOST=unix://DIR/docker.sock
#        test/container/private-daemon.sh stop DIR    stops both daemons and deletes DIR
# No bridge and no iptables rules: builds and containers use the host network (--network host).
# Storage: overlay2 where the kernel has overlayfs (a container then starts without copying the image),
# else vfs; MAS_DOCKER_STORAGE_DRIVER forces one. If dockerd does not come up with overlay2, vfs is tried.
set -euo pipefail
cmd="${1:?usage: private-daemon.sh start|stop DIR}"; DIR="${2:?usage: private-daemon.sh start|stop DIR}"

stop_pid() { # stop_pid PIDFILE: TERM, up to 15 s, then KILL
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

case "$cmd" in
start)
  mkdir -p "$DIR"
  cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$DIR/containerd-root"
state = "$DIR/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$DIR/containerd.sock"
EOF
  echo '{}' >"$DIR/daemon.json"
  containerd --config "$DIR/containerd.toml" >"$DIR/containerd.log" 2>&1 &
  echo $! >"$DIR/containerd.pid"
  for _ in $(seq 1 100); do [ -S "$DIR/containerd.sock" ] && break; sleep 0.1; done
  drivers="${MAS_DOCKER_STORAGE_DRIVER:-$(grep -qw overlay /proc/filesystems && echo overlay2) vfs}"
  for driver in $drivers; do
    mkdir -p "$DIR/data-$driver"
    dockerd --host "unix://$DIR/docker.sock" --containerd "$DIR/containerd.sock" --config-file "$DIR/daemon.json" \
      --data-root "$DIR/data-$driver" --exec-root "$DIR/exec" --pidfile "$DIR/docker.pid" \
      --iptables=false --bridge=none --storage-driver="$driver" >"$DIR/dockerd.log" 2>&1 &
    echo $! >"$DIR/dockerd.launcher.pid"
    for _ in $(seq 1 300); do
      if DOCKER_HOST="unix://$DIR/docker.sock" docker version >/dev/null 2>&1; then
        echo "DOCKER_HOST=unix://$DIR/docker.sock"; exit 0
      fi
      kill -0 "$(cat "$DIR/dockerd.launcher.pid")" 2>/dev/null || break
      sleep 0.1
    done
    echo "private-daemon: dockerd did not come up with storage driver $driver; its log:" >&2; tail -5 "$DIR/dockerd.log" >&2
    stop_pid "$DIR/dockerd.launcher.pid"
  done
  exit 1
  ;;
stop)
  [ -d "$DIR" ] || exit 0
  if DOCKER_HOST="unix://$DIR/docker.sock" docker version >/dev/null 2>&1; then
    ids="$(DOCKER_HOST="unix://$DIR/docker.sock" docker ps -aq)"
    # shellcheck disable=SC2086 # one id per word
    [ -z "$ids" ] || DOCKER_HOST="unix://$DIR/docker.sock" docker rm -f $ids >/dev/null 2>&1 || true
  fi
  stop_pid "$DIR/dockerd.launcher.pid"
  stop_pid "$DIR/containerd.pid"
  # Anything still mounted below DIR (a container's shm, say) is unmounted first, deepest first, so the
  # removal can never reach through a mount into another file system.
  { grep -F " $DIR/" /proc/self/mountinfo || true; } | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$DIR"
  ;;
*) echo "usage: private-daemon.sh start|stop DIR" >&2; exit 2 ;;
esac
