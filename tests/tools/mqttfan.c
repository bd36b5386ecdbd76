// SPDX-License-Identifier: MIT
/*
 * The baseline for the agents' fan-out: plain libmosquitto, nothing else.
 *   mqttfan sub HOST PORT TOPIC COUNT [REPLY_TOPIC]
 *                                       prints "SEQ LATENCY_NS" per message (QoS 1);
 *                                       with REPLY_TOPIC, answers each there at
 *                                       once (QoS 1), as an agent answers a ping
 *   mqttfan pub HOST PORT TOPIC ROUNDS GAP_MS
 *                                       publishes "SEQ SENT_NS" ROUNDS times
 * Each subscriber is one process with its own connection, as agents are;
 * the bench compares the time to the last receipt with the agents' in the
 * same run. Times are CLOCK_REALTIME ns (all on one machine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mosquitto.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int want, got;
static const char *reply_topic;

static void on_msg(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	long long t = now_ns();
	char buf[64];

	(void)ud;
	int seq = -1;
	long long sent = 0;

	snprintf(buf, sizeof(buf), "%.*s", msg->payloadlen < 63 ? msg->payloadlen : 63, (const char *)msg->payload);
	if (sscanf(buf, "%d %lld", &seq, &sent) != 2)
		return;
	if (reply_topic)
		mosquitto_publish(m, NULL, reply_topic, (int)strlen(buf), buf, 1, false);
	printf("%d %lld\n", seq, t - sent);
	fflush(stdout);
	got++;
}

static void on_sub(struct mosquitto *m, void *ud, int mid, int n, const int *qos)
{
	(void)m; (void)ud; (void)mid; (void)n; (void)qos;
	printf("ready\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct mosquitto *m;

	if (argc < 6 || (strcmp(argv[1], "sub") && strcmp(argv[1], "pub")) || (!strcmp(argv[1], "pub") && argc < 7)) {
		fprintf(stderr, "usage: mqttfan sub HOST PORT TOPIC COUNT | pub HOST PORT TOPIC ROUNDS GAP_MS\n");
		return 2;
	}
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	if (!m)
		return 1;
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_message_callback_set(m, on_msg);
	mosquitto_subscribe_callback_set(m, on_sub);
	if (mosquitto_connect(m, argv[2], atoi(argv[3]), 60)) {
		fprintf(stderr, "mqttfan: cannot connect to %s:%s\n", argv[2], argv[3]);
		return 1;
	}
	if (!strcmp(argv[1], "sub")) {
		want = atoi(argv[5]);
		reply_topic = argc > 6 ? argv[6] : NULL;
		mosquitto_subscribe(m, NULL, argv[4], 1);
		while (got < want && mosquitto_loop(m, 1000, 1) == MOSQ_ERR_SUCCESS)
			;
	} else {
		int rounds = atoi(argv[5]), gap = atoi(argv[6]);

		for (int r = 0; r < rounds; r++) {
			char p[64];

			snprintf(p, sizeof(p), "%d %lld", r, now_ns());
			mosquitto_publish(m, NULL, argv[4], (int)strlen(p), p, 1, false);
			for (int w = 0; w < gap; w += 10)
				mosquitto_loop(m, 10, 1);
		}
		printf("sent %d\n", rounds);
	}
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return 0;
}
