# frozen_string_literal: true

module HoneyHive
  # Rack integration (Rails, Sinatra, Hanami, plain Rack). Needs no rack gem: a middleware is
  # any object with #call(env) that returns [status, headers, body].
  module Rack
    # Traces each request: one session per request (the caller's, when the request carries
    # W3C baggage with a session_id, else a new one named +session_name+ or the route), and
    # in it a SERVER span named "<METHOD> <route>" (the framework's route pattern when it
    # tells one: Sinatra's sinatra.route, Rails' action_dispatch.route_uri_pattern; else the
    # path) that continues an incoming traceparent. The span records http.request.method,
    # url.path, url.scheme, server.address, user_agent.original, http.route and
    # http.response.status_code; a 5xx answer or an exception sets status ERROR (the exception
    # is recorded and re-raised). During the call the session and span are current
    # (Tracer#current_span, #current_session_id), so spans started by the app nest under it.
    #
    #   use HoneyHive::Rack::Middleware, tracer: TRACER                       # config.ru
    #   config.middleware.use HoneyHive::Rack::Middleware, tracer: TRACER     # Rails
    #
    # Telemetry failures (closed tracer, limits) are logged; the request is always served.
    # The span ends when the app returns, before the body is streamed.
    class Middleware
      # +session_name+: a String, or a callable given the env; nil: the span's name.
      # +session_options+: more keywords for Tracer#create_session (metadata:, user_properties:).
      def initialize(app, tracer:, session_name: nil, session_options: {})
        @app = app
        @tracer = tracer
        @session_name = session_name
        @session_options = session_options
      end

      def call(env)
        method = env["REQUEST_METHOD"].to_s
        name = "#{method} #{Middleware.path(env)}"
        continued = HoneyHive.baggage_session_id(HoneyHive.header(env, "baggage"))
        @tracer.extract(env) do
          continued ? serve(env, name) : in_new_session(env, name)
        end
      end

      # @api private: the request path (SCRIPT_NAME + PATH_INFO), "/" when empty.
      def self.path(env)
        path = "#{env['SCRIPT_NAME']}#{env['PATH_INFO']}"
        path.empty? ? "/" : path
      end

      # @api private: the route pattern a framework recorded while routing, or nil.
      def self.route(env)
        sinatra = env["sinatra.route"] # "GET /hello/:name"
        return sinatra.to_s.split(" ", 2).last if sinatra

        pattern = env["action_dispatch.route_uri_pattern"] # "/hello/:name(.:format)"
        pattern&.to_s&.delete_suffix("(.:format)")
      end

      private

      def in_new_session(env, name)
        session_name = @session_name.respond_to?(:call) ? @session_name.call(env) : (@session_name || name)
        sid =
          begin
            @tracer.create_session(session_name, **@session_options)
          rescue Error => e
            HoneyHive.telemetry_error(@tracer, e)
            nil
          end
        sid ? @tracer.use_session(sid) { serve(env, name) } : serve(env, name)
      end

      def serve(env, name)
        @tracer.trace(name, kind: :server, attributes: nil) do |span|
          span.add_attributes(request_attributes(env))
          status, headers, body = @app.call(env)
          finish_span(span, env, status)
          [status, headers, body]
        end
      end

      def request_attributes(env)
        attrs = { "http.request.method" => env["REQUEST_METHOD"].to_s, "url.path" => Middleware.path(env) }
        attrs["url.scheme"] = env["rack.url_scheme"].to_s if env["rack.url_scheme"]
        host = env["HTTP_HOST"] || env["SERVER_NAME"]
        attrs["server.address"] = host.to_s.split(":").first.to_s if host
        attrs["user_agent.original"] = env["HTTP_USER_AGENT"].to_s if env["HTTP_USER_AGENT"]
        attrs
      end

      def finish_span(span, env, status)
        code = status.to_i
        route = Middleware.route(env)
        if route && !route.empty?
          span.name = "#{env['REQUEST_METHOD']} #{route}"
          span.add_attributes("http.route" => route)
        end
        span.add_attributes("http.response.status_code" => code)
        span.set_status(:error, "HTTP #{code}") if code >= 500
      end
    end
  end
end
