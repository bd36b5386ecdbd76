// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD for benchmarks: fsync and fdatasync return at once, having done
 * nothing. A conversion timed with it and without it shows what making its
 * output durable costs (bench_sp.sh); nothing else may use it.
 */
int fsync(int fd);
int fdatasync(int fd);

int fsync(int fd)
{
	(void)fd;
	return 0;
}

int fdatasync(int fd)
{
	(void)fd;
	return 0;
}
