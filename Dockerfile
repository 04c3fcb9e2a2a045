# One image for web, worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CLIENTDESK_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir --upgrade pip
COPY . .
RUN pip install --no-cache-dir . \
    && SECRET_KEY=build-only DEBUG=0 ALLOWED_HOSTS=build \
       ROUTER_SECRET_KEY=$(python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())") \
       python manage.py collectstatic --noinput \
    && useradd --create-home clientdesk && mkdir -p /app/var/media && chown -R clientdesk /app/var
USER clientdesk
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
