# refusal_check LABEL: a program the kernel's verifier refuses
# ($BUILD/tools/refused.bpf.o, loaded by $BUILD/tools/bpfload the way
# stasis loads its own) is reported in one line naming the program, the
# verifier's complaint and the instruction; with STASIS_DEBUG=1 the whole
# log comes too. Prints its own result lines, so that the kernel-matrix
# guest (which has no test harness around it) can use it as well.
refusal_check() {
	_rl=$1 _re=$(mktemp)
	"$BUILD/tools/bpfload" "$BUILD/tools/refused.bpf.o" > /dev/null 2> "$_re"
	_rc=$?
	sed 's/^/# /' "$_re"
	if [ $_rc = 1 ] && [ "$(wc -l < "$_re")" = 1 ] &&
	   grep -qE "^bpfload: the kernel's verifier refused program refused_xdp: .*packet.* \(at [0-9]+: .+\); STASIS_DEBUG=1 \(or --debug\) prints its whole log$" "$_re"; then
		echo "ok - $_rl: a refused program is one line: its name, the complaint, the instruction"
	else
		echo "not ok - $_rl: a refused program is one line: its name, the complaint, the instruction (exit $_rc)"
	fi
	STASIS_DEBUG=1 "$BUILD/tools/bpfload" "$BUILD/tools/refused.bpf.o" > /dev/null 2> "$_re"
	if grep -q "^-- the verifier's log of refused_xdp --$" "$_re" && grep -q '^processed [0-9]* insns' "$_re"; then
		echo "ok - $_rl: with STASIS_DEBUG=1 the verifier's whole log is printed"
	else
		echo "not ok - $_rl: with STASIS_DEBUG=1 the verifier's whole log is printed"
	fi
	rm -f "$_re"
}
