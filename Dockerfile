# Klaxon's one binary, built static and run as an unprivileged user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/klaxon ./cmd/klaxon

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/klaxon /klaxon
EXPOSE 8080
ENTRYPOINT ["/klaxon"]
CMD ["serve"]
