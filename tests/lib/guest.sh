# The guest launcher: QEMU on a tap, QMP on a unix socket, the serial console
# logged to a file, a command run at boot. Files of guest NAME in $T_WORK:
#   NAME.log (console output), NAME.con (console socket, for a person to
#   attach to), NAME.qmp (QMP socket), NAME.pid, NAME.run (boot script)
# STASIS_ACCEL selects the accelerator (tcg here; kvm on hosts that have it).
GUEST_KERNEL=${GUEST_KERNEL:-$BUILD/guest/vmlinuz}
GUEST_INITRD=${GUEST_INITRD:-$BUILD/guest/initrd.img}
STASIS_ACCEL=${STASIS_ACCEL:-tcg}

# guest_start NAME NS TAP IP/PREFIX MAC SCRIPT [MEM_MB]
guest_start() {
	_g=$1 _ns=$2 _tap=$3 _ip=$4 _mac=$5 _script=$6 _mem=${7:-128}
	[ -r "$GUEST_KERNEL" ] && [ -r "$GUEST_INITRD" ] ||
		{ echo "# guest image missing: make guest" >&2; return 1; }
	printf '%s\n' "$_script" > "$T_WORK/$_g.run"
	: > "$T_WORK/$_g.log"
	set -- qemu-system-x86_64 -name "$_g" -accel "$STASIS_ACCEL" -m "$_mem" -smp 1 \
		-nodefaults -no-user-config -display none \
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 loglevel=3 panic=-1 stasis.name=$_g stasis.ip=$_ip" \
		-chardev "socket,id=con0,path=$T_WORK/$_g.con,server=on,wait=off,logfile=$T_WORK/$_g.log" \
		-serial chardev:con0 \
		-qmp "unix:$T_WORK/$_g.qmp,server=on,wait=off" \
		-fw_cfg "name=opt/stasis/run,file=$T_WORK/$_g.run" \
		-netdev "tap,id=n0,ifname=$_tap,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$_mac" \
		-pidfile "$T_WORK/$_g.pid" -no-reboot
	if [ -n "$_ns" ]; then
		ip netns exec "$_ns" "$@" > "$T_WORK/$_g.qemu.log" 2>&1 &
	else
		"$@" > "$T_WORK/$_g.qemu.log" 2>&1 &
	fi
	# ip netns exec execs QEMU in place, so $! is QEMU's own PID.
	eval "GUEST_PID_$_g=$!"
	t_defer "guest_kill $_g"
}

guest_pid() { eval "echo \${GUEST_PID_$1:-}"; }

# guest_kill NAME: stop the QEMU we started (by its PID) and wait for it.
guest_kill() {
	_p=$(guest_pid "$1")
	[ -n "$_p" ] || return 0
	kill "$_p" 2>/dev/null
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$_p" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -9 "$_p" 2>/dev/null
}

# guest_wait NAME REGEX TIMEOUT_S: wait for a console line; fail early if
# QEMU died.
guest_wait() {
	_end=$(( $(date +%s) + $3 ))
	_p=$(guest_pid "$1")
	while [ "$(date +%s)" -le "$_end" ]; do
		grep -qE "$2" "$T_WORK/$1.log" 2>/dev/null && return 0
		if [ -n "$_p" ] && ! kill -0 "$_p" 2>/dev/null; then
			echo "# guest $1 exited; qemu said: $(tail -3 "$T_WORK/$1.qemu.log")" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "# timeout after $3 s waiting for /$2/ on $1's console; last lines:" >&2
	tail -5 "$T_WORK/$1.log" | sed 's/^/#   /' >&2
	return 1
}

# guest_line NAME REGEX: the last console line matching REGEX.
guest_line() { grep -E "$2" "$T_WORK/$1.log" | tail -1 | tr -d '\r'; }

# guest_go NAME NS IP: the start signal for a guest whose boot script waits
# for it with `udp-recv 6000 --count 1` (GUEST_WAIT_GO): one datagram from
# namespace NS (which needs an address on the guests' network), again until
# the guest says it got it. The network, not the console: lines written to
# the serial console were seen not to reach the guest's shell (the first
# line of a connection did, later ones did not, in QEMU 7.2; not
# understood), and a test that starts its guests' work at a chosen moment
# must not depend on that.
GUEST_WAIT_GO="udp-recv 6000 --count 1 --timeout-ms 600000"
guest_go() {
	for _i in $(seq 30); do
		in_ns "$2" "$SG" udp-send "$3" 6000 1 > /dev/null 2>&1
		guest_wait "$1" 'udp-recv: done' 2 2> /dev/null && return 0
	done
	echo "# guest $1 never got the start signal" >&2
	return 1
}
