# One image for migrate, web, worker and beat (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 CLIENTDESK_VAR_DIR=/app/var
WORKDIR /app
# Dependencies first, from pyproject.toml alone (the project installs no package of its own):
# this layer is rebuilt when the dependencies change, not when the code does.
COPY pyproject.toml ./
RUN pip install .
COPY . .
RUN SECRET_KEY=build-only DEBUG=0 ALLOWED_HOSTS=build \
       ROUTER_SECRET_KEY=$(python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())") \
       python manage.py collectstatic --noinput \
    && useradd --create-home clientdesk \
    && mkdir -p /app/var/media /app/var/metrics && chown -R clientdesk /app/var
USER clientdesk
EXPOSE 8000
CMD ["gunicorn", "--config", "config/gunicorn.py", "--bind", "0.0.0.0:8000", "config.wsgi:application"]
