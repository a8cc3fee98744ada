from django.apps import AppConfig


class SimplejwtBenchConfig(AppConfig):
    name = "bench.simplejwt"
    label = "bench_simplejwt"
