"""The jobs tests' router: long-form jobs on, over a real Redis."""

from support.jobs_stack import jobs_router as jobs_router
from support.redis_server import redis_url as redis_url
