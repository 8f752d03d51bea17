#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: one JVM is broker and controller, no ZooKeeper) on loopback,
# for the end-to-end tests and local trials. The jars come from Maven Central through pom.xml.
#
#   kafka.sh resolve                    copy Kafka's jars into .kafka/lib (idempotent; after it,
#                                       everything below runs offline)
#   kafka.sh run DIR PORT CONTROLLER_PORT [PARTITIONS]
#                                       format DIR/data unless it already holds a cluster, then run
#                                       the broker in the foreground (exec: signals reach the JVM;
#                                       SIGTERM is a clean, controlled shutdown)
#   kafka.sh start DIR [PARTITIONS]     run it in the background on free loopback ports, wait until
#                                       it is ready, print its bootstrap address (host:port)
#   kafka.sh stop DIR                   stop what `start` started (SIGTERM, SIGKILL after 30 s)
#   kafka.sh create-topic BOOTSTRAP TOPIC PARTITIONS
#                                       create a topic (if it does not exist yet) with one replica
#
# PARTITIONS (default 4) is the partition count of topics the producers create on first use.
# KAFKA_CLUSTER_ID: the cluster id a new DIR is formatted with (22 characters of URL-safe base64);
# a random one by default.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
pom="$root/scripts/kafka/pom.xml"
lib="$root/.kafka/lib"
stamp="$lib/pom.sha256"
# What test/helpers/kafka.ts waits for too.
ready_line='Kafka Server started'
java_kafka=(java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" -cp "$lib/*")

resolve() {
  local want
  want=$(sha256sum "$pom" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "kafka: $lib is up to date with $pom"
    return
  fi
  command -v mvn >/dev/null || { echo "kafka: Maven (mvn) and Java 17+ are needed to resolve Kafka" >&2; exit 1; }
  rm -rf "$lib"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib"
  echo "$want" >"$stamp"
  echo "kafka: resolved into $lib"
}

# Writes DIR/server.properties and formats DIR/data (a fresh cluster id) unless it was formatted.
prepare() {
  local dir=$1 port=$2 controller_port=$3 partitions=$4
  [ -d "$lib" ] || { echo "kafka: $lib is missing: run 'bash scripts/kafka/kafka.sh resolve'" >&2; exit 1; }
  mkdir -p -m 0700 "$dir"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=$partitions
auto.create.topics.enable=true
# One node: every internal topic has a single replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A consumer group forms at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
EOF
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id
    # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding. One in 64 starts with
    # "-", hence --cluster-id=ID: as a separate argument, the parser would take it for an option.
    cluster_id=${KAFKA_CLUSTER_ID:-$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)}
    "${java_kafka[@]}" kafka.tools.StorageTool format --config "$dir/server.properties" --cluster-id="$cluster_id" --ignore-formatted >/dev/null
  fi
}


# A loopback port nobody listens on (best effort, as for any free-port pick).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "kafka: no free port found" >&2
  exit 1
}

case "${1:-}" in
  resolve) resolve ;;
  run)
    [ $# -ge 4 ] || { echo "usage: kafka.sh run DIR PORT CONTROLLER_PORT [PARTITIONS]" >&2; exit 2; }
    prepare "$2" "$3" "$4" "${5:-4}"
    exec "${java_kafka[@]}" kafka.Kafka "$2/server.properties"
    ;;
  start)
    [ $# -ge 2 ] || { echo "usage: kafka.sh start DIR [PARTITIONS]" >&2; exit 2; }
    dir=$2
    mkdir -p -m 0700 "$dir"
    port=$(free_port)
    controller_port=$(free_port)
    nohup "$0" run "$dir" "$port" "$controller_port" "${3:-4}" >"$dir/kafka.log" 2>&1 &
    echo $! >"$dir/kafka.pid"
    for _ in $(seq 1 600); do
      if grep -q "$ready_line" "$dir/kafka.log"; then echo "127.0.0.1:$port" | tee "$dir/bootstrap"; exit 0; fi
      kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null || { cat "$dir/kafka.log" >&2; echo "kafka: the broker exited" >&2; exit 1; }
      sleep 0.1
    done
    echo "kafka: not ready after 60 s (see $dir/kafka.log)" >&2
    exit 1
    ;;
  stop)
    [ $# -ge 2 ] || { echo "usage: kafka.sh stop DIR" >&2; exit 2; }
    pid=$(cat "$2/kafka.pid")
    kill -TERM "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -KILL "$pid"
    ;;
  create-topic)
    [ $# -ge 4 ] || { echo "usage: kafka.sh create-topic BOOTSTRAP TOPIC PARTITIONS" >&2; exit 2; }
    "${java_kafka[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$2" --create --if-not-exists \
      --topic "$3" --partitions "$4" --replication-factor 1
    ;;
  *)
    sed -n '2,19p' "$0" >&2
    exit 2
    ;;
esac
