# xner: the app on the embedded default (no network needed at run time).
#   docker build -t xner . && docker run -p 8501:8501 xner
# Mirrors the README set-up: `make app` installs requirements (torch first) and starts Streamlit.
FROM python:3.11-slim

# gcc: eflomal compiles at install time; make: the README's two commands.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc g++ make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /xner
# Extra pip arguments for torch, e.g. PyTorch's CPU wheel index, so a GPU-less image stays small.
ARG TORCH_PIP_ARGS=""
RUN pip install --no-cache-dir torch==2.13.0 ${TORCH_PIP_ARGS}

COPY requirements.txt requirements-nodeps.txt pyproject.toml Makefile README.md ./
COPY core ./core
RUN make install PYTHON=python && rm -rf /root/.cache/pip

COPY . .
ENV XNER_HOME=/xner/xner_data
EXPOSE 8501
# Inside a container the app must listen on all interfaces to be reachable through -p.
CMD ["python", "-m", "streamlit", "run", "app/main.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
