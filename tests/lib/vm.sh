# The common start of a VM test: instances under $T_WORK/vms, the guest
# image ($K, $I), a namespace $NS for the taps, and every VM quit at exit.
vm_test_init() {
	t_need_root
	export STASIS_VM_ROOT=$T_WORK/vms
	K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.img
	[ -r "$K" ] && [ -r "$I" ] || t_skip "guest image missing: make guest"
	ns_create NS || { t_fail "namespace"; t_done; }
	t_defer "'$STASIS' vm quit --all"
}
