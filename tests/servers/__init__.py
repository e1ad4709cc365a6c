"""Real servers on 127.0.0.1 for the tests: nginx (`nginx.py`) and a fault injector (`faulty.py`)."""
