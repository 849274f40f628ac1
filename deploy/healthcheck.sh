#!/bin/sh
# wharf-healthcheck SERVICE - the container healthcheck of docker-compose.yml.
#   api-gateway                    GET /ping on its own HTTP port answers 200
#   store-service, media-service   its own bus ROUTER answers health.ping 200
#   session-worker,                the first store of STORE_ENDPOINTS answers
#   webhook-dispatcher             health.ping 200 from this container
# Exit 0 healthy, 1 not.
set -u
ping_bus() { # ENDPOINT
    out=$(bus-call --timeout 2000 "$1" health.ping 2>/dev/null) || return 1
    case "$out" in *'"st":200'*|*'"st": 200'*) return 0 ;; esac
    return 1
}
first() { echo "${1%%,*}" | sed 's#0\.0\.0\.0#127.0.0.1#'; }
case "${1:-}" in
api-gateway)
    exec curl -fsS -o /dev/null --max-time 2 \
        "http://127.0.0.1:${WHATSAPP_API_PORT:-3000}/ping" ;;
store-service)
    ping_bus "$(first "${STORE_BIND:-tcp://127.0.0.1:7401}")" ;;
media-service)
    ping_bus "$(first "${MEDIA_BIND:-tcp://127.0.0.1:7404}")" ;;
session-worker|webhook-dispatcher)
    ping_bus "$(first "${STORE_ENDPOINTS:-tcp://127.0.0.1:7401}")" ;;
*)
    echo "usage: wharf-healthcheck SERVICE" >&2; exit 2 ;;
esac
