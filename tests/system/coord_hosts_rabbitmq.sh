#!/bin/bash
# coord_hosts.sh, the whole experiment across two hosts, with RabbitMQ's MQTT
# plugin for a broker (Debian 12's rabbitmq-server 3.10): retained messages
# reach only exact subscriptions there, and '.' in a topic comes back as '/'.
export T_BROKER=rabbitmq T_HOST_DOMAIN=.lab
. "$(dirname "$0")/coord_hosts.sh"
