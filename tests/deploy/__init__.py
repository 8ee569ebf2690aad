"""Checks of the deployment artefacts: the Dockerfile and its image, docker-compose.yml and the Helm chart."""
