"""The report's HTML template (Jinja2, autoescaped): inline CSS, no network references."""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FormWatch report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a202c; max-width: 1200px; }
h1 { margin-bottom: 0.2rem; } .sub { color: #4a5568; margin-top: 0; }
section.video { border-top: 2px solid #cbd5e0; margin-top: 2rem; padding-top: 0.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #e2e8f0; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f7fafc; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #c53030; font-weight: 600; } .flag { color: #c53030; font-weight: 600; }
.ok { color: #2f855a; } .muted { color: #718096; }
.runner { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; margin: 1rem 0;
          padding: 0.75rem; background: #f7fafc; border-radius: 6px; }
.runner h3 { width: 100%; margin: 0; } .thumb { height: 240px; border: 1px solid #cbd5e0; }
video { max-width: 100%; background: #000; } .clips video { max-height: 360px; }
.chart { background: #fff; border: 1px solid #e2e8f0; } .chart-title { font-size: 11px; fill: #2d3748; }
.tick { font-size: 10px; fill: #718096; }
.cue { width: 100%; margin: 0.2rem 0; font-size: 1rem; } .cue.top { font-size: 1.25rem; }
</style>
</head>
<body>
<h1>FormWatch report</h1>
<p class="sub">{{ videos|length }} video(s) from {{ out_dir }}; thresholds are the default analysis settings.</p>
{% if athletes %}<p class="athletes">Athletes: {% for a in athletes %}<a href="{{ a.href }}">{{ a.name }}</a>
<span class="muted">({{ a.sessions }} session{{ "s" if a.sessions != 1 else "" }})</span>
{{- ", " if not loop.last else "" }}
{% endfor %}</p>{% endif %}
{% for v in videos %}
<section class="video" id="video-{{ v.video_id }}">
<h2>{{ v.name }}</h2>
<p class="muted">{{ v.path }}</p>
<p>
  status: {% if v.failed %}<span class="failed">failed</span>{% else %}<span class="ok">{{ v.status }}</span>{% endif %}
  {% if v.fps %} &middot; {{ "%.3f"|format(v.fps) }} frames/s{% endif %}
  {% if v.duration_s is not none %} &middot; {{ "%.1f"|format(v.duration_s) }} s{% endif %}
  {% if v.slow_motion %} &middot; <span class="flag">{{ v.slow_motion }}</span>{% endif %}
  &middot; <span class="muted">id {{ v.video_id }}</span>
</p>
{% if v.error %}<p class="failed">{{ v.error }}</p>{% endif %}
{% if v.annotated %}
<div class="clips"><video controls preload="metadata" src="{{ v.annotated }}"></video></div>
{% endif %}
{% for p in v.runners %}
<div class="runner" id="runner-{{ v.video_id }}-{{ p.track_id }}">
<h3>Runner {{ p.track_id }}{% if p.athlete and not p.proposed %} &middot; {{ p.athlete }}{% elif p.athlete %}
<span class="muted">&middot; looks like {{ p.athlete }} (proposed, not confirmed)</span>{% endif %}</h3>
{% for f in p.flagged %}
<p class="cue{{ " top" if loop.first else "" }}"><strong>{{ f.cue }}</strong> <span class="muted">({{ f.label }}
{{- (" %.3g %s"|format(f.value, f.unit)) if f.value is not none else "" }})</span><br>Drill: {{ f.drill }}</p>
{% endfor %}
{% if p.thumbnail %}<img class="thumb" src="{{ p.thumbnail }}" alt="runner {{ p.track_id }}">{% endif %}
<table>
<tr><th>fault</th><th>value</th><th>90% interval</th><th>flagged</th><th>strides flagged</th>
<th>strides measured</th><th>note</th></tr>
{% for f in p.faults %}
<tr><td>{{ f.label }}</td>
<td class="num">{{ ("%.3g"|format(f.value) ~ " " ~ f.unit) if f.value is not none else "–" }}</td>
<td class="num">{{ ("%.3g–%.3g"|format(f.value_low, f.value_high)) if f.value_low is not none else "–" }}</td>
<td>{% if f.flagged %}<span class="flag">yes</span>{% elif f.flagged is none %}<span class="muted">–</span>
{%- else %}no{% endif %}</td>
<td class="num">{{ "%.0f%%"|format(100 * f.fraction_flagged) if f.fraction_flagged is not none else "–" }}</td>
<td class="num">{{ f.strides_measured }}</td><td class="muted">{{ f.reason or "" }}</td></tr>
{% else %}<tr><td colspan="7" class="muted">No faults measured.</td></tr>
{% endfor %}
</table>
{% for chart in p.charts %}{{ chart }}{% endfor %}
{% if p.clip %}<div class="clips"><video controls preload="metadata" src="{{ p.clip }}"></video></div>{% endif %}
</div>
{% endfor %}
{% if v.others %}<p class="muted">{{ v.others }}</p>{% endif %}
{% if v.people %}
<details><summary>Everyone in this video ({{ v.people|length }})</summary>
<table>
<tr><th>id</th><th>running</th><th>activity</th><th>seconds visible</th><th>steps</th><th>cadence (steps/min)</th>
<th>view</th></tr>
{% for p in v.people %}
<tr><td class="num">{{ p.track_id }}</td><td>{{ "yes" if p.is_runner else "no" }}</td><td>{{ p.activity }}</td>
<td class="num">{{ "%.1f"|format(p.seconds_visible) }}</td><td class="num">{{ p.steps }}</td>
<td class="num">{{ "%.0f"|format(p.cadence_spm) if p.cadence_spm is not none else "–" }}</td><td>{{ p.view }}</td></tr>
{% endfor %}
</table>
</details>
{% elif not v.failed %}<p class="muted">No people found.</p>{% endif %}
</section>
{% endfor %}
</body>
</html>
"""

ATHLETE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ athlete }}: FormWatch progress</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a202c; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #e2e8f0; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f7fafc; } .muted { color: #718096; } .flag { color: #c53030; font-weight: 600; }
.metric { display: inline-block; vertical-align: top; margin: 0 1rem 1rem 0; max-width: 440px; }
.cue { font-size: 1.05rem; margin: 0.2rem 0; }
.chart { background: #fff; border: 1px solid #e2e8f0; } .chart-title { font-size: 11px; fill: #2d3748; }
.tick { font-size: 10px; fill: #718096; } video { max-width: 100%; background: #000; }
</style>
</head>
<body>
<p><a href="../report.html">&larr; report</a></p>
<h1>{{ athlete }}</h1>
<p class="muted">{{ sessions|length }} session(s). A change is better or worse only when the two sessions' 90%
intervals do not overlap; otherwise it is no measurable change. * date from the file's modification time.</p>
<table>
<tr><th>session</th><th>date</th><th>video</th><th>runner</th></tr>
{% for s in sessions %}<tr><td>{{ s.session }}</td><td>{{ s.date }}</td><td>{{ s.video }}</td>
<td>{{ s.track_id }}</td></tr>
{% endfor %}
</table>
{% for m in metrics %}
<div class="metric" id="metric-{{ m.name }}">
{% if m.cue %}<p class="cue"><strong>{{ m.cue }}</strong><br>
<span class="muted">Drill: {{ m.drill }}</span></p>{% endif %}
{{ m.chart }}
<p>{{ m.label }}: latest {{ m.latest }}; since the session before: <strong>{{ m.change }}</strong>;
since the first: <strong>{{ m.since_first }}</strong></p>
{% if m.clip %}<video controls preload="metadata" src="{{ m.clip }}"></video>{% endif %}
</div>
{% endfor %}
</body>
</html>
"""
