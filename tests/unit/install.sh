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
t_check "nothing under PREFIX itself" test ! -e "$P"
t_eq "nothing else in DESTDIR" "$W/root/opt" "$(find "$W/root" -mindepth 1 -maxdepth 1)"
t_done
