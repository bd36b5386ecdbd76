#!/bin/sh
# Install, from Debian's archive only, every package that build, tests, demo and
# bench need, and only those that are missing: quick when all is there.
set -eu
PKGS="clang llvm lld libclang-rt-14-dev gcc make pkg-config libelf-dev zlib1g-dev
libbpf-dev libxdp-dev bpftool xdp-tools libnl-3-dev libnl-route-3-dev
libmosquitto-dev mosquitto mosquitto-clients rabbitmq-server libjansson-dev
qemu-system-x86 qemu-utils busybox-static cpio kmod
tcpdump tshark tcpreplay iproute2 ethtool procps psmisc e2fsprogs socat jq util-linux iputils-ping openssl ca-certificates
man-db groff-base systemd"
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages and not root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# Services stay down: a package's own daemon (rabbitmq-server's) is not
# what the tests use; they start their own. policy-rc.d says so to
# invoke-rc.d, only for this install and only if the machine has none.
own_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	own_policy=1
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null || { [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
[ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
echo "deps: done"
