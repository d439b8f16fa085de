#!/bin/sh
# Start redis-server with the playground's users: no access without a password, and the two
# users the playground needs, each limited to its keys (pg:*) and the commands it uses.
# One script for every deployment (compose mounts it; Kubernetes ships it as a ConfigMap):
#
#   deploy/kubernetes/redis-acl.sh [redis-server options ...]
#
# Passwords (use long random hex, e.g. `openssl rand -hex 32`: they go into redis:// URLs):
#   REDIS_APP_PASSWORD or the file REDIS_APP_PASSWORD_FILE     user playground-app (app replicas)
#   REDIS_HOST_PASSWORD or the file REDIS_HOST_PASSWORD_FILE   user playground-host (worker hosts)
# The ACL file holds only their SHA-256 (written to REDIS_ACL_FILE, default /tmp/users.acl, 0600).
# docs/redis-deployment.md explains the rules; tests/deploy/test_redis_acl.py runs this script.
set -eu

secret() {  # secret NAME: the value of $NAME, else the contents of the file $NAME_FILE
    value=$(eval "printf '%s' \"\${$1:-}\"")
    file=$(eval "printf '%s' \"\${$1_FILE:-}\"")
    if [ -z "$value" ] && [ -n "$file" ]; then
        value=$(cat "$file")
    fi
    if [ ${#value} -lt 16 ]; then
        echo "redis-acl: $1 (or the file $1_FILE) must hold a password of 16+ characters" >&2
        exit 2
    fi
    printf '%s' "$value" | sha256sum | cut -d' ' -f1
}

app_hash=$(secret REDIS_APP_PASSWORD)
host_hash=$(secret REDIS_HOST_PASSWORD)
acl_file=${REDIS_ACL_FILE:-/tmp/users.acl}

# What both users need: connecting, the queue's function library (loaded by whichever side comes
# first after a restart; functions run with their caller's rights) and the data commands that
# library calls, on pg:* keys only. Nothing else: no KEYS/SCAN, FLUSH*, CONFIG, EVAL, MODULE,
# DEBUG, CLIENT KILL, other keys or channels.
connection="+ping +auth +hello +select +client|setname +client|id"
library="+fcall +fcall_ro +function|load"
data="+del +exists +get +set +incr +pexpire +pttl +time +hdel +hget +hgetall +hincrby +hmget \
+hset +rpush +ltrim +blpop +sadd +scard +smembers +srem +zadd +zcard +zrange +zrangebyscore \
+zrank +zrem +zremrangebyscore +zscore"
rules="resetkeys ~pg:* resetchannels -@all $connection $library $data"

umask 077
{
    # Without a password, PING (health checks) and AUTH only.
    echo "user default on nopass resetkeys resetchannels -@all +ping +auth +hello"
    echo "user playground-app on #$app_hash $rules"
    echo "user playground-host on #$host_hash $rules"
} > "$acl_file"

exec redis-server "$@" --aclfile "$acl_file"
