"""Real servers on 127.0.0.1 for the tests: nginx (`nginx.py`), docker-registry
(`registry.py`), moto's S3 (`moto.py`), a fault injector (`faulty.py`), a keyring session
(`keyring_session.py`); `process.py` stops what they start."""
