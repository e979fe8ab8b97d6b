# The reference frontend: nginx serving the static app over HTTPS and proxying /api/ to the
# backend (http://backend:8000), with the security headers on every response.
#
# Build context: reference_app/ (this file is deploy/frontend.Dockerfile). deploy/nginx.conf is
# rendered from frontend/nginx.conf.template (`python -m harness.stacks nginx-conf`).
#
# Run time: mount a certificate and its key at /etc/nginx/tls/tls.crt and tls.key (the image
# holds no private key). Port 8080 answers /health and redirects everything else to HTTPS on
# 8443. Runs as uid 101 (the nginx user of the official images).
ARG NGINX_IMAGE=nginx:1.27-alpine
FROM ${NGINX_IMAGE}

COPY deploy/nginx.conf /etc/nginx/nginx.conf
COPY deploy/frontend-healthcheck.sh /usr/local/bin/frontend-healthcheck
COPY frontend/static/ /usr/share/nginx/frontend/
RUN mkdir -p /var/cache/frontend/tmp /etc/nginx/tls \
 && chown -R 101:101 /var/cache/frontend \
 && chmod 0755 /usr/local/bin/frontend-healthcheck \
 && chmod -R a+rX /usr/share/nginx/frontend

USER 101:101
EXPOSE 8080 8443
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/frontend-healthcheck"]
CMD ["nginx", "-e", "stderr", "-c", "/etc/nginx/nginx.conf"]
