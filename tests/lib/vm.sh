# The common start of a VM test: instances under $T_WORK/vms, the guest
# image ($K, $I), a namespace $NS for the taps, and every VM quit at exit.
vm_test_init() {
	t_need_root
	export STASIS_VM_ROOT=$T_WORK/vms
	# RAM files in a memory file system as by default, one folder per
	# test (removed after the VMs quit: deferred first, run last)
	export STASIS_MEM_DIR=/dev/shm/stasis-test.$$
	t_defer "rm -rf '$STASIS_MEM_DIR'"
	K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
	[ -r "$K" ] && [ -r "$I" ] || t_skip "guest image missing: make guest"
	ns_create NS || { t_fail "namespace"; t_done; }
	t_defer "'$STASIS' vm quit --all"
}

# log_has LOG FROM REGEX: a line of LOG from line FROM on matches (grep -E).
log_has() { tail -n +"$2" "$1" | tr -d '\r' | grep -qE "$3"; }

# console_ask SOCKET LOG CMD REGEX: CMD typed on a guest's serial console,
# until a line matching REGEX shows in LOG after it; prints that line. The
# connection stays open until the answer shows: closed at once, input the
# guest's UART has not taken yet is lost. Input just after a resume can be
# lost on the serial line too, so up to three tries (the commands given
# here are idempotent). Each call's command is preceded by an echo of a
# word of its own, and the answer is looked for only after that word's
# line: a slow guest may still be running an earlier call's command (the
# shell runs them in order, so their output comes before the word), and
# a VM replaced by a restore may have left half a line of its own.
console_ask() {
	_cw="ask-$$-$RANDOM$RANDOM"
	_l=$(($(wc -l < "$2") + 1))
	for _try in 1 2 3; do
		{ printf 'echo %s; %s\n' "$_cw" "$3"; wait_until 10 console_answered "$2" "$_l" "$_cw" "$4"; } |
			timeout 15 socat -u - "UNIX-CONNECT:$1"
		if console_answered "$2" "$_l" "$_cw" "$4"; then
			console_answer "$2" "$_l" "$_cw" | grep -E "$4" | tail -1
			return 0
		fi
	done
	echo "# no /$4/ on $2 after 3 tries" >&2
	return 1
}
# console_answer LOG FROM WORD: the lines of LOG from line FROM on that
# follow the first line that is WORD alone.
console_answer() { tail -n +"$2" "$1" | tr -d '\r' | sed -n "/^$3\$/,\$p" | tail -n +2; }
console_answered() { console_answer "$1" "$2" "$3" | grep -qE "$4"; }

# tick_lines LOG FROM: at_least's count of "tick N" lines of LOG from line FROM.
tick_lines() { tail -n +"$2" "$1" | tr -d '\r' | grep -c '^tick [0-9]*$'; }
