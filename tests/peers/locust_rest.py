"""Locust against a REST payload server (seed 000's load tool): every
answer is checked for its size; a wrong one is a failure."""
from locust import HttpUser, task

SIZE_KB = 16


class PayloadUser(HttpUser):
    @task
    def payload(self):
        with self.client.get(f"/payload?size_in_kb={SIZE_KB}", catch_response=True) as r:
            if r.status_code != 200 or len(r.json()["data"]) != SIZE_KB * 1024:
                r.failure("wrong answer")
