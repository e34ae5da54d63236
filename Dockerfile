# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies get their own layer, so a code change does not reinstall them.
# pyproject.toml lists no installable packages, so its requirement list is read
# and installed directly. The 'embedded' and 'test' extras stay out of the image.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Application code, copied folder by folder so that .venv, var/ and other local
# state never enter the image. A new top-level app needs a line here.
COPY manage.py ./
COPY track360 ./track360
COPY tenancy ./tenancy
COPY crm ./crm
COPY icp ./icp
COPY partners ./partners
COPY commissions ./commissions
COPY reporting ./reporting
COPY demo ./demo
COPY templates ./templates
COPY static ./static
# The public data sets that `manage.py load_demo` imports.
COPY data ./data

# The settings require DATABASE_URL and REDIS_URL at import time, but
# collectstatic connects to neither, so placeholders suffice here.
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app --no-create-home track360
USER track360

EXPOSE 8000

# WEB_CONCURRENCY sets the number of gunicorn workers (gunicorn reads it itself).
# The control socket is off because its default folder, $HOME/.gunicorn, would
# be inside /app, which this user cannot write. The long timeout covers CSV
# imports, which run inside the upload request.
CMD ["gunicorn", "track360.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", \
     "--error-logfile", "-", \
     "--timeout", "300", \
     "--no-control-socket"]
