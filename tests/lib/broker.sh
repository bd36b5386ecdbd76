# MQTT brokers for the tests, each a process of the test's own.
# broker_start KIND NS ADDR PORT: mosquitto or rabbitmq (RabbitMQ's MQTT
# plugin, as Debian 12 ships it), listening on ADDR:PORT in namespace NS
# ("-": this one), anonymous; returns once it accepts connections. Sets
# BROKER_URL. Stopped at exit.
# broker_local: a mosquitto on 127.0.0.1 and a random port, here.

# _broker_in NS CMD...: CMD in NS (exec'd, so that a background one's $!
# is CMD's own PID).
_broker_in() { _bi=$1; shift; if [ "$_bi" = - ]; then exec "$@"; else exec ip netns exec "$_bi" "$@"; fi; }
broker_listening() { ( _broker_in "$1" bash -c "exec 3<>/dev/tcp/$2/$3" ) 2> /dev/null; }
broker_local() { broker_start mosquitto - 127.0.0.1 $(( 20000 + RANDOM % 20000 )); }

broker_start() {
	_bk=$1 _bns=$2 _ba=$3 _bp=$4
	_bd=$T_WORK/broker-$_bk
	mkdir -p "$_bd"
	BROKER_URL=mqtt://$_ba:$_bp BROKER_PORT=$_bp
	case "$_bk" in
	mosquitto)
		printf 'listener %s %s\nallow_anonymous true\npersistence false\n' "$_bp" "$_ba" > "$_bd/mosq.conf"
		( _broker_in "$_bns" mosquitto -c "$_bd/mosq.conf" ) > "$_bd/log" 2>&1 &
		t_defer "kill $!"
		wait_until 10 broker_listening "$_bns" "$_ba" "$_bp"
		;;
	rabbitmq)
		# A node of its own: its files, cookie and Erlang port mapper
		# (epmd, started here in the foreground so that it is ours to
		# stop; the node would otherwise start one that outlives it).
		cat > "$_bd/rabbitmq.conf" <<-EOF
		listeners.tcp = none
		mqtt.listeners.tcp.default = $_ba:$_bp
		mqtt.allow_anonymous = true
		loopback_users = none
		EOF
		echo '[rabbitmq_mqtt].' > "$_bd/enabled_plugins"
		( _broker_in "$_bns" epmd -address 127.0.0.1 ) > "$_bd/epmd.log" 2>&1 &
		t_defer "kill $!"
		wait_until 10 broker_listening "$_bns" 127.0.0.1 4369 || return 1
		( _broker_in "$_bns" env HOME="$_bd" RABBITMQ_NODENAME="stasis$T_ID@localhost" \
			RABBITMQ_BASE="$_bd" RABBITMQ_MNESIA_BASE="$_bd/mnesia" RABBITMQ_LOG_BASE="$_bd/log" \
			RABBITMQ_CONFIG_FILE="$_bd/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$_bd/enabled_plugins" \
			RABBITMQ_PID_FILE="$_bd/pid" ERL_EPMD_ADDRESS=127.0.0.1 \
			/usr/lib/rabbitmq/bin/rabbitmq-server ) > "$_bd/out.log" 2>&1 &
		# The script waits for the Erlang VM (its pid in the pid file),
		# whose helpers end with it.
		t_defer "kill \$(cat $_bd/pid) $!"
		# Its boot takes seconds (Erlang, Mnesia, the plugin).
		wait_until 120 broker_listening "$_bns" "$_ba" "$_bp"
		;;
	*)
		echo "broker_start: unknown broker $_bk" >&2
		return 1
		;;
	esac
}
