"""A bare Flask app served by the same gunicorn command as the portal: the ceiling.

gunicorn --workers 5 --bind 127.0.0.1:8001 "bench.hello:app"
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
