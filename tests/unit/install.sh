#!/bin/bash
# make install honours PREFIX and DESTDIR, and what it installs runs.
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK
# The sanitized build is installed as it was built (a stale object would
# otherwise be rebuilt without the sanitizers into it).
san=
case $BUILD in */build-san) san=SAN=1 ;; esac
P=/opt/stasis-install-test.$$
t_require "make install PREFIX=$P DESTDIR=..." \
	quiet make -s -C "$ROOT" install $san BUILD="$BUILD" PREFIX=$P DESTDIR="$W/root"
t_check "the binary is under DESTDIR/PREFIX/bin" test -x "$W/root$P/bin/stasis"
t_eq "and it runs" "$("$STASIS" version)" "$("$W/root$P/bin/stasis" version)"
t_check "the manual is under share/doc/stasis" test -f "$W/root$P/share/doc/stasis/README.md"
t_check "and the docs with it" test -f "$W/root$P/share/doc/stasis/sp-format.md"
D=$W/root$P
# The man pages: one per object and stasis(8), each rendering without a
# warning.
for page in stasis stasis-net stasis-vm stasis-sp stasis-agent stasis-coord stasis-fuzz; do
	f=$D/share/man/man8/$page.8
	t_check "$page(8) is installed" test -f "$f"
	t_check "  man -l renders it" sh -c "man -l '$f' 2> '$W/man.err' | grep -q '^NAME' && [ ! -s '$W/man.err' ]"
	t_eq "  groff finds nothing to warn about" "" "$(groff -man -ww -z "$f" 2>&1)"
done
t_check "stasis-vm(8) has every verb" sh -c "for v in start adopt list stop cont quit rm save restore snapshot fork dump-mem; do
	man -l '$D/share/man/man8/stasis-vm.8' 2>/dev/null | grep -q \"vm \$v\" || exit 1; done"
t_check "stasis-agent(8) lists --snapshots" sh -c "man -l '$D/share/man/man8/stasis-agent.8' 2>/dev/null | grep -q -- '--snapshots'"
# Bash completion, as bash would ask it.
C=$D/share/bash-completion/completions/stasis
t_check "the bash completion is installed" test -f "$C"
comp() {	# WORDS...: what completing the last word offers
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _stasis; echo "${COMPREPLY[*]}"' "$C" "$@"
}
t_eq "completion: objects" "net vm sp agent coord fuzz help version" "$(comp stasis '' | sed 's/ -j.*//')"
t_eq "completion: an object's prefix" "coord" "$(comp stasis co)"
t_eq "completion: vm's verbs" "start stop" "$(comp stasis vm st)"
t_eq "completion: net trigger's verbs" "add list del help" "$(comp stasis net trigger '')"
t_eq "completion: a verb's options" "--mem --mac --mem-dir" "$(comp stasis vm start --m)"
t_eq "completion: past global options and arguments" "--paused --prefault" "$(comp stasis -j vm restore snap --p)"
t_eq "completion: an option's choices" "none cache all" "$(comp stasis vm fork snap --prefault '')"
t_eq "completion: the agent's options" "--snapshots" "$(comp stasis agent --sn)"
touch "$W/file-for-completion.sp"
t_eq "completion: files for --output" "$W/file-for-completion.sp" "$(comp stasis net drain -o "$W/file-for-co")"
# The agent's unit, and its example environment file.
U=$D/lib/systemd/system/stasis-agent@.service
t_check "the agent's systemd unit is installed" test -f "$U"
t_check "  it runs PREFIX's binary" grep -q "^ExecStart=$P/bin/stasis agent --experiment %i" "$U"
t_check "an example of its environment file" grep -q '^STASIS_AGENT_OPTS=' "$D/share/doc/stasis/agent.env.example"
t_check "nothing under PREFIX itself" test ! -e "$P"
t_eq "nothing else in DESTDIR" "$W/root/opt" "$(find "$W/root" -mindepth 1 -maxdepth 1)"
# systemd's own check of the unit, installed where its binary and its man
# page really are (a PREFIX of this test's own, no DESTDIR).
t_require "make install PREFIX=$W/prefix" quiet make -s -C "$ROOT" install $san BUILD="$BUILD" PREFIX="$W/prefix"
t_run "$W/out" "$W/err" env MANPATH="$W/prefix/share/man" systemd-analyze verify \
	"$W/prefix/lib/systemd/system/stasis-agent@x.service"
t_eq "systemd-analyze verify accepts the agent's unit" "0 " "$T_RC $(cat "$W/err")"
t_done
