"""The service on one machine: moto for AWS, a fake Twilio API, a scheduler loop, a simulator."""
