from __future__ import annotations

from rest_framework import serializers

from jobs.models import Job


class JobOutputSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(allow_null=True, read_only=True)
    finished = serializers.BooleanField(read_only=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "subject",
            "stage",
            "done",
            "total",
            "percent",
            "finished",
            "message",
            "result",
            "target_url",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
