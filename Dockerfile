# xner: the app on the embedded default (no network needed at run time).
#   docker build -t xner .
#   docker run -p 8501:8501 -e XNER_ACCESS_TOKEN=$(openssl rand -hex 16) xner
# Mirrors the README set-up: `make app` installs requirements (torch first) and starts Streamlit.
# The app runs as the unprivileged user `xner` and, listening on all interfaces inside the
# container, refuses to start without XNER_ACCESS_TOKEN (app/serve.py); every visitor must give it.
FROM python:3.11-slim

# gcc: eflomal compiles at install time; make: the README's two commands.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc g++ make \
 && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so a mounted data folder can be given to it (chown 10001 on the host); its
# own home holds the translation and alignment caches (~/.cache/xner).
RUN groupadd --system --gid 10001 xner \
 && useradd --system --uid 10001 --gid xner --create-home --home-dir /home/xner \
      --shell /usr/sbin/nologin xner

WORKDIR /xner
# Extra pip arguments for torch, e.g. PyTorch's CPU wheel index, so a GPU-less image stays small.
ARG TORCH_PIP_ARGS=""
RUN pip install --no-cache-dir torch==2.13.0 ${TORCH_PIP_ARGS}

COPY requirements.txt requirements-nodeps.txt pyproject.toml Makefile README.md ./
COPY core ./core
RUN make install PYTHON=python && rm -rf /root/.cache/pip

# The code stays owned by root (read-only to the app); only the data home is the app's to write.
COPY . .
RUN mkdir -p /xner/xner_data && chown xner:xner /xner/xner_data
ENV XNER_HOME=/xner/xner_data
VOLUME /xner/xner_data
USER xner:xner
EXPOSE 8501
# Inside a container the app must listen on all interfaces to be reachable through -p; app.serve
# refuses that without XNER_ACCESS_TOKEN.
CMD ["python", "-m", "app.serve", "--server.address", "0.0.0.0", "--server.port", "8501"]
