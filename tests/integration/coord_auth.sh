#!/bin/bash
# Broker credentials and TLS are passed through to the connection: a broker
# that wants a password refuses a wrong one with a clear error; the right
# one (in the URL or as options) and a TLS listener with our CA work.
. "$(dirname "$0")/../lib/common.sh"
W=$T_WORK O=$T_WORK/out E=$T_WORK/err
port=$(( 20000 + RANDOM % 20000 )) tport=$((port + 1))
mosquitto_passwd -c -b "$W/passwd" alice s3cret
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=stasis-test-ca -keyout "$W/ca.key" -out "$W/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$W/srv.key" -out "$W/srv.csr" 2>/dev/null
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.crt" -CAkey "$W/ca.key" -CAcreateserial -days 1 \
	-copy_extensions copy -out "$W/srv.crt" 2>/dev/null
cat > "$W/m.conf" <<CONF
per_listener_settings true
listener $port 127.0.0.1
allow_anonymous false
password_file $W/passwd
listener $tport 127.0.0.1
allow_anonymous false
password_file $W/passwd
cafile $W/ca.crt
certfile $W/srv.crt
keyfile $W/srv.key
CONF
# mosquitto started as root drops to its own user: it must read these.
chmod 0755 "$W"
chmod 0644 "$W"/*
mosquitto -c "$W/m.conf" > "$W/m.log" 2>&1 &
t_defer "kill $!"
t_require "mosquitto listens" wait_until 10 tcp_listening 127.0.0.1 $tport

t_run "$O" "$E" "$STASIS" coord status --broker mqtt://alice:wrong@127.0.0.1:$port --timeout 1
t_eq "a wrong password: exit 1" 1 "$T_RC"
t_check "  one line saying the broker refused" sh -c "grep -q 'did not accept the connection' '$E' && test \$(wc -l < '$E') = 1"
t_run "$O" "$E" "$STASIS" coord status --broker mqtt://127.0.0.1:$port --timeout 1
t_eq "no password for a broker that wants one: exit 1" 1 "$T_RC"

"$STASIS" agent --broker mqtt://alice:s3cret@127.0.0.1:$port --host h1 --snapshots "$W/s" > "$W/a1.log" 2>&1 &
t_defer "kill $!"
"$STASIS" agent --broker mqtts://127.0.0.1:$tport --username alice --password s3cret --cafile "$W/ca.crt" \
	--host h2 --snapshots "$W/s" --experiment tls > "$W/a2.log" 2>&1 &
t_defer "kill $!"
# (An agent that cannot connect exits: waiting for its answer is the test.)
t_check "user and password as options: the agent (credentials in its URL) answers" \
	wait_until 30 "$STASIS" coord status --broker mqtt://127.0.0.1:$port --username alice --password s3cret
t_check "over TLS with our CA: the TLS agent answers" \
	wait_until 30 "$STASIS" coord status --broker mqtts://alice:s3cret@127.0.0.1:$tport --cafile "$W/ca.crt" --experiment tls
t_run "$O" "$E" "$STASIS" coord status --broker mqtts://alice:s3cret@127.0.0.1:$tport --experiment tls --timeout 1
t_eq "TLS without our CA (the system's CAs do not know it): exit 1" 1 "$T_RC"
t_check "  the broker did not accept the connection" grep -q "did not accept\|cannot reach" "$E"
t_run "$O" "$E" "$STASIS" coord status --broker http://x
t_eq "a URL that is not mqtt: exit 1" 1 "$T_RC"
t_check "  says what a URL looks like" grep -q "mqtt\[s\]://" "$E"
t_done
